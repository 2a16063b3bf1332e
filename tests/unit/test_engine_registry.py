"""The trigger engine's registry (pure, time injected): candidates by event name, paused
automations, state kept or reset on reload, deadlines."""

from __future__ import annotations

from beat.triggers.registry import Registry, fingerprint
from tasks_core.automations.model import AutomationModel
from tasks_core.events.triggers import EventTrigger
from tests.unit.trigger_events import at, ev

DO_NOTHING = [{"type": "do-nothing"}]


def _automation(name: str, expect: str, **options: object) -> AutomationModel:
    return AutomationModel(name, EventTrigger(expect={expect}, **options), DO_NOTHING)


def test_candidates_are_found_by_event_name_not_by_scanning() -> None:
    registry = Registry()
    wanted = _automation("orders", "acme.order.*", threshold=2)
    registry.put(wanted, None, at(0))
    for i in range(1000):  # automations that cannot match an order event
        registry.put(_automation(f"other {i}", f"other{i}.thing"), None, at(0))
    assert [c.automation.id for c in registry.candidates("acme.order.paid")] == [wanted.id]
    assert registry.candidates("unrelated.event") == []


def test_a_paused_automation_sees_no_event_and_keeps_its_state() -> None:
    registry = Registry()
    automation = _automation("orders", "acme.order.*", threshold=2)
    registry.put(automation, None, at(0))
    [loaded] = registry.candidates("acme.order.paid")
    assert loaded.evaluator.handle(ev("acme.order.paid", 1)) == []  # one of two counted
    paused = automation.model_copy(update={"enabled": False})
    registry.put(paused, None, at(2))
    assert registry.candidates("acme.order.paid") == []
    registry.put(automation, None, at(3))  # resumed: the count of one is still there
    [again] = registry.candidates("acme.order.paid")
    [firing] = again.evaluator.handle(ev("acme.order.paid", 4))
    assert firing.count == 2


def test_a_changed_trigger_starts_afresh_and_saved_state_resumes() -> None:
    registry = Registry()
    automation = _automation("orders", "acme.order.*", threshold=2)
    registry.put(automation, None, at(0))
    registry.loaded[automation.id].evaluator.handle(ev("acme.order.paid", 1))
    saved = registry.loaded[automation.id].saved()
    assert saved["trigger"] == fingerprint(automation)
    resumed = Registry()
    resumed.put(automation, saved, at(2))
    assert len(resumed.loaded[automation.id].evaluator.handle(ev("acme.order.paid", 3))) == 1
    changed = _automation("orders", "acme.order.*", threshold=3).model_copy(
        update={"id": automation.id})
    registry.put(changed, None, at(4))
    assert registry.loaded[automation.id].evaluator.handle(ev("acme.order.paid", 5)) == []
    resumed.put(changed, saved, at(6))  # a state saved for another trigger is ignored
    assert resumed.loaded[automation.id].evaluator.to_state()["buckets"] == {}


def test_proactive_deadlines_and_removal() -> None:
    registry = Registry()
    watch = _automation("silence", "acme.heartbeat", posture="Proactive", within=10)
    assert registry.put(watch, None, at(0)) == []  # the first tick opens the window
    assert registry.next_deadline() == at(10)
    assert registry.due(at(9.9)) == []
    assert registry.due(at(10)) == [watch.id]
    [firing] = registry.tick(watch.id, at(10.2))
    assert firing.fired_at == at(10) and registry.next_deadline() == at(20)
    assert registry.remove(watch.id) and registry.next_deadline() is None
    assert not registry.remove(watch.id)


def test_a_proactive_firing_is_resolved_by_its_next_expected_event_once() -> None:
    registry = Registry()
    watch = _automation("silence", "acme.heartbeat", posture="Proactive", within=10,
                        for_each={"acme.worker"}, after={"acme.started"})
    registry.put(watch, None, at(0))
    [loaded] = registry.candidates("acme.started")
    assert loaded.evaluator.handle(ev("acme.started", 1, **{"acme.worker": "w1"})) == []
    [firing] = registry.tick(watch.id, at(11))  # w1 silent from 1 s to 11 s
    assert firing.labels == {"acme.worker": "w1"}
    assert loaded.resolve(ev("acme.heartbeat", 12, **{"acme.worker": "w2"})) is None
    assert loaded.resolve(ev("acme.other", 12, **{"acme.worker": "w1"})) is None
    assert loaded.resolve(ev("acme.heartbeat", 12, **{"acme.worker": "w1"})) == firing.id
    assert loaded.resolve(ev("acme.heartbeat", 13, **{"acme.worker": "w1"})) is None
    saved = loaded.saved()
    assert saved["alerts"] == {}
