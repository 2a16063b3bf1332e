"""Pure parts of the deployments and automations pages: schedule and trigger summaries, the
automation a "+ Add" starts from, which automations a deployment's Triggers lists, and how
automation events are grouped into firings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tasks_core.automations import Automation
from tasks_core.dashboard.automations import (
    TRIGGERED,
    group_firings,
    new_automation,
    trigger_text,
)
from tasks_core.dashboard.deployments import schedule_text, triggers_of
from tasks_core.deployment_models import Deployment
from tasks_core.events.actions.execute import ACTION_EXECUTED, ACTION_FAILED
from tasks_core.events.schema import Event

DEPLOYMENT = Deployment(id="d-1", name="nightly", flow_name="etl", entrypoint="flows.py:etl")
AUTOMATION_RID = {"tasks-core.resource.id": "tasks-core.automation.a-1"}


def _automation(name: str, actions: list[dict[str, Any]], **trigger: Any) -> Automation:
    return Automation.model_validate({"name": name, "trigger": {"expect": ["a.b"], **trigger},
                                      "actions": actions})


def test_schedule_text() -> None:
    assert schedule_text({"cron": "0 3 * * *", "timezone": "UTC"}) == "cron 0 3 * * * (UTC)"
    assert schedule_text({"interval": 3600}) == "every 3600 s"
    assert schedule_text({"rrule": "FREQ=DAILY", "active": False}) == \
        "rrule FREQ=DAILY [inactive]"


def test_trigger_text() -> None:
    assert trigger_text(_automation("x", [{"type": "do-nothing"}])) == "expect a.b"
    assert trigger_text(_automation("x", [{"type": "do-nothing"}], threshold=3, within=60)) \
        == "expect a.b (3 within 60 s)"
    assert trigger_text(_automation("x", [{"type": "do-nothing"}], posture="Proactive",
                                     within=30)) == "expect absence of a.b (1 within 30 s)"


def test_a_new_automation_for_a_deployment_runs_it() -> None:
    plain = new_automation(None)
    assert plain["actions"] == [{"type": "do-nothing"}] and plain["name"] == ""
    made = new_automation(DEPLOYMENT)
    assert made["actions"] == [{"type": "run-deployment", "source": "selected",
                                "deployment_id": "d-1", "parameters": {}}]
    assert made["name"] == "run etl/nightly" and made["trigger"]["type"] == "event"


def test_triggers_of_a_deployment() -> None:
    by_id = _automation("by id", [{"type": "run-deployment", "deployment_id": "d-1"}])
    by_name = _automation("by name", [{"type": "do-nothing"},
                                      {"type": "run-deployment",
                                       "deployment_name": "etl/nightly"}])
    owned = _automation("owned", [{"type": "do-nothing"}]).model_copy(
        update={"owner_deployment_id": "d-1"})
    other = _automation("other", [{"type": "run-deployment", "deployment_id": "d-2"}])
    pause = _automation("pause", [{"type": "pause-deployment", "deployment_id": "d-1"}])
    found = triggers_of(DEPLOYMENT, [by_id, by_name, owned, other, pause])
    assert [a.name for a in found] == ["by id", "by name", "owned"]


def _event(name: str, **payload: Any) -> Event:
    return Event(event=name, resource=AUTOMATION_RID, payload=payload,
                 occurred=datetime(2026, 1, 1, tzinfo=UTC), related=[
                     {"tasks-core.resource.id": "tasks-core.event.e-9",
                      "tasks-core.resource.role": "triggering-event",
                      "tasks-core.resource.name": "acme.order.shipped"}])


def test_events_grouped_into_firings() -> None:
    events = [  # newest first, as the feed reads them
        _event(ACTION_FAILED, firing_id="f2", action_index=1, error="boom"),
        _event(ACTION_EXECUTED, firing_id="f2", action_index=0),
        _event(TRIGGERED, firing_id="f2"),
        _event(ACTION_EXECUTED, firing_id="f0", action_index=0),  # its firing is older
        _event(TRIGGERED, firing_id="f1"),
    ]
    firings = group_firings(events)
    assert [f.id for f in firings] == ["f2", "f1"]
    assert [e.event for e in firings[0].actions] == [ACTION_EXECUTED, ACTION_FAILED]
    assert firings[1].actions == []
    assert (firings[0].triggering_id, firings[0].triggering_name) == \
        ("e-9", "acme.order.shipped")
