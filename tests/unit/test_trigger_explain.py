"""Replaying stored events through a trigger: when it would have fired, or which
condition failed (issue 11 item 12, the pure part)."""

from __future__ import annotations

from tasks_core.events import CompoundTrigger, EventTrigger, SequenceTrigger
from tasks_core.events.triggers import explain
from tests.unit.trigger_events import at, ev, flow_completed

COURSE = EventTrigger(match_related={"prefect.resource.id": "prefect.flow.*"},
                      expect={"prefect.flow-run.Completed"})


def test_a_trigger_that_fires_says_when_and_on_which_event() -> None:
    event = flow_completed(5)
    result = explain(COURSE, [ev("tasks-core.flow-run.Running", 0), event])
    assert result.fired and result.reason is None
    assert result.render() == (f"would have fired once; first at {at(5).isoformat()} "
                               f"on tasks-core.flow-run.Completed ({event.id})")


def test_no_event_with_the_expected_name() -> None:
    result = explain(COURSE, [ev("tasks-core.flow-run.Failed", 0),
                              ev("tasks-core.flow-run.Failed", 1), ev("acme.x", 2)])
    assert not result.fired and result.reason is not None
    assert result.reason.condition == "event"
    assert result.render() == ("never fired over 3 events: no event named "
                               "['tasks-core.flow-run.Completed'] (saw "
                               "tasks-core.flow-run.Failed, acme.x)")


def test_a_label_of_the_resource_that_never_matched_is_named() -> None:
    trigger = EventTrigger(expect="acme.sent", match={"prefect.resource.id": "developer.*",
                                                      "env": "prod"})
    result = explain(trigger, [ev("acme.sent", 0, "developer.kiki", env="dev")])
    assert result.reason is not None
    assert (result.reason.condition, result.reason.label) == ("label", "env")
    assert "label 'env' of the resource never matched ['prod'] (seen: ['dev'])" \
        in result.render()


def test_labels_that_match_apart_but_never_together() -> None:
    trigger = EventTrigger(expect="a", match={"x": "1", "y": "1"})
    result = explain(trigger, [ev("a", 0, x="1", y="2"), ev("a", 1, x="2", y="1")])
    assert result.reason is not None and result.reason.condition == "label"
    assert "matched all of" in result.reason.message


def test_a_related_label_that_never_matched_is_named() -> None:
    result = explain(COURSE, [ev("tasks-core.flow-run.Completed", 0)])
    assert result.reason is not None
    assert (result.reason.condition, result.reason.label) == \
        ("related", "tasks-core.resource.id")
    assert "(seen: no such label)" in result.reason.message


def test_no_after_event_opened_a_window() -> None:
    trigger = EventTrigger(expect="order.complete", after="order.created", within=60)
    result = explain(trigger, [ev("order.complete", 0)])
    assert result.reason is not None and result.reason.condition == "after"
    assert "['order.created']" in result.reason.message


def test_reactive_threshold_not_reached_gives_the_best_count() -> None:
    trigger = EventTrigger(expect="fail", threshold=3, within=60)
    result = explain(trigger, [ev("fail", t) for t in (0, 30, 100, 120)])
    assert result.reason is not None
    assert (result.reason.condition, result.reason.got, result.reason.needed,
            result.reason.within) == ("threshold", 2, 3, 60.0)
    assert result.render().endswith("threshold not reached: got 2 of 3 matching events "
                                    "within 60 s")


def test_reactive_threshold_with_after_counts_inside_windows() -> None:
    trigger = EventTrigger(expect="b", after="a", threshold=2, within=10)
    result = explain(trigger, [ev("a", 0), ev("b", 5), ev("b", 15)])
    assert result.reason is not None and result.reason.got == 1


def test_proactive_whose_window_never_closed() -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", within=600)
    result = explain(trigger, [ev("other", 0), ev("hb", 10)], start=at(0), end=at(300))
    assert result.reason is not None and result.reason.condition == "window"
    assert "no window of 600 s closed" in result.reason.message


def test_proactive_that_always_got_enough() -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", within=30)
    result = explain(trigger, [ev("hb", t) for t in range(0, 300, 10)], start=at(0),
                     end=at(300))
    assert result.reason is not None and result.reason.condition == "threshold"
    assert "every window of 30 s got at least 1" in result.reason.message


def test_proactive_that_fires_during_a_replay_gap() -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", within=30)
    result = explain(trigger, [ev("hb", 10), ev("hb", 100)], start=at(0), end=at(100))
    assert [f.fired_at for f in result.firings] == [at(60), at(90)]  # 30..60, 60..90 silent


def test_a_compound_names_the_child_that_never_fired() -> None:
    trigger = CompoundTrigger(require="all", triggers=[{"expect": ["a"]},
                                                       {"expect": ["b"], "threshold": 2}])
    result = explain(trigger, [ev("a", 0), ev("b", 1)])
    assert result.reason is not None
    assert (result.reason.condition, result.reason.got, result.reason.needed) == \
        ("children", 1, 2)
    assert "trigger 1 did not: threshold not reached: got 1 of 2" in result.reason.message


def test_a_compound_whose_children_fired_too_far_apart() -> None:
    trigger = CompoundTrigger(require="all", within=10, triggers=[{"expect": ["a"]},
                                                                  {"expect": ["b"]}])
    result = explain(trigger, [ev("a", 0), ev("b", 50)])
    assert result.reason is not None and result.reason.condition == "window"
    assert "never 2 within 10 s" in result.reason.message


def test_a_sequence_that_came_out_of_order() -> None:
    trigger = SequenceTrigger(triggers=[{"expect": ["a"]}, {"expect": ["b"]}])
    result = explain(trigger, [ev("b", 0), ev("a", 1)])
    assert result.reason is not None and result.reason.condition == "order"


def test_a_nested_reason_names_its_trigger_path() -> None:
    trigger = SequenceTrigger(triggers=[
        {"expect": ["a"]},
        {"require": "all", "triggers": [{"expect": ["b"]}, {"expect": ["c"]}]}])
    result = explain(trigger, [ev("a", 0), ev("b", 1)])
    assert result.reason is not None
    assert "trigger 1 did not: 1 of 2 required triggers fired; trigger 1.1 did not: " \
        "no event named ['c']" in result.reason.message


def test_an_empty_replay() -> None:
    result = explain(COURSE, [])
    assert result.reason is not None and result.reason.condition == "event"
    assert "saw no events" in result.render()
