"""Pure parts of the engine's loop handling and of `flow-run inspect`'s "Started by" line."""

from __future__ import annotations

from beat.triggers.chains import link
from tasks_core.cli.flow_runs import started_by
from tasks_core.cli.output import EMPTY
from tasks_core.events.triggers import Firing
from tasks_core.records import RunRecord, TriggeredBy
from tasks_core.states import StateName, StateType
from tests.unit.trigger_events import at, ev


def test_started_by_names_the_automation_and_the_event() -> None:
    plain = RunRecord(id="r1", kind="flow", name="etl", state=StateName.COMPLETED,
                      state_type=StateType.COMPLETED, created=at(0))
    assert started_by(plain) == EMPTY
    by = TriggeredBy(automation_id="a1", automation_name="rerun etl", event_id="e9",
                     event="tasks-core.flow-run.Completed", firing_id="f1")
    assert started_by(plain.model_copy(update={"triggered_by": by})) == (
        "automation 'rerun etl' on event e9 (tasks-core.flow-run.Completed)")
    silent = by.model_copy(update={"event_id": None, "event": None})
    assert "no event came" in started_by(plain.model_copy(update={"triggered_by": silent}))


def test_a_link_names_the_automation_the_event_and_the_firing() -> None:
    event = ev("acme.order.paid", 1)
    firing = Firing.make(trigger="", fired_at=at(1), labels={}, count=1, event=event,
                         event_ids=[event.id])
    assert link("a1", "orders", firing) == {
        "automation_id": "a1", "automation": "orders", "event_id": event.id,
        "event": "acme.order.paid", "firing_id": firing.id}
    silent = Firing.make(trigger="", fired_at=at(10), labels={}, count=0, event=None,
                         event_ids=[])
    assert link("a1", "orders", silent)["event_id"] is None
