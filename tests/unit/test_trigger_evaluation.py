"""Pure trigger evaluation with injected time: postures, windows, for_each, composites,
saved state and firing ids. No Redis, no sleeping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks_core.events import CompoundTrigger, Event, EventTrigger, SequenceTrigger
from tasks_core.events.triggers import (
    CompositeEvaluator,
    EventTriggerEvaluator,
    Firing,
    evaluator_for,
    replay,
    restore_evaluator,
)
from tests.unit.trigger_events import at, ev, flow_completed


def feed(trigger: EventTrigger | CompoundTrigger | SequenceTrigger,
         events: Sequence[Event]) -> list[Firing]:
    evaluator = evaluator_for(trigger)
    return [f for e in events for f in evaluator.handle(e)]


# -- Reactive ------------------------------------------------------------------------------

def test_the_course_trigger_fires_once_per_completed_flow_run() -> None:
    trigger = EventTrigger(match_related={"prefect.resource.id": "prefect.flow.*"},
                           expect={"prefect.flow-run.Completed"})
    events = [flow_completed(0), ev("tasks-core.flow-run.Running", 1), flow_completed(2, "b")]
    firings = feed(trigger, events)
    assert [f.event.id for f in firings if f.event] == [events[0].id, events[2].id]
    assert [f.fired_at for f in firings] == [at(0), at(2)]


def test_reactive_threshold_without_window_fires_every_nth_event() -> None:
    trigger = EventTrigger(expect="a", threshold=3)
    firings = feed(trigger, [ev("a", t) for t in range(7)])
    assert [f.fired_at for f in firings] == [at(2), at(5)]
    assert all(f.count == 3 and len(f.event_ids) == 3 for f in firings)


def test_reactive_window_slides_rather_than_tumbles() -> None:
    # 3 within 10 s: 9, 12 and 15 fall in one span, although 0..10 and 10..20 split them.
    trigger = EventTrigger(expect="a", threshold=3, within=10)
    firings = feed(trigger, [ev("a", t) for t in (0, 9, 12, 15)])
    assert [f.fired_at for f in firings] == [at(15)]
    assert firings[0].count == 3


def test_reactive_window_is_half_open() -> None:
    trigger = EventTrigger(expect="a", threshold=2, within=10)
    assert feed(trigger, [ev("a", 0), ev("a", 10)]) == []
    assert len(feed(trigger, [ev("a", 0), ev("a", 9.999)])) == 1


def test_an_event_older_than_the_last_firing_is_ignored() -> None:
    trigger = EventTrigger(expect="a", threshold=2, within=10)
    assert [f.fired_at for f in feed(trigger, [ev("a", 5), ev("a", 6), ev("a", 4),
                                               ev("a", 7), ev("a", 8)])] == [at(6), at(8)]


def test_slightly_out_of_order_events_still_count() -> None:
    trigger = EventTrigger(expect="a", threshold=3, within=10)
    assert [f.fired_at for f in feed(trigger, [ev("a", 5), ev("a", 3), ev("a", 4)])] == [at(4)]


def test_without_a_window_late_events_still_fire() -> None:
    # Two upstream runs complete together; their events arrive out of order.
    trigger = EventTrigger(expect="done")
    assert [f.fired_at for f in feed(trigger, [ev("done", 5), ev("done", 4)])] == [at(5), at(4)]


def test_tick_forgets_buckets_nothing_can_count_in() -> None:
    windowed = EventTriggerEvaluator(EventTrigger(expect="a", threshold=2, within=10,
                                                  for_each={"k"}))
    once = EventTriggerEvaluator(EventTrigger(expect="a", for_each={"k"}))
    for n in range(100):
        windowed.handle(ev("a", n, k=str(n)))
        once.handle(ev("a", n, k=str(n)))
    assert len(once.buckets) == 0  # fired and nothing left to count
    windowed.tick(at(100))
    assert list(windowed.buckets) == [(str(n),) for n in range(91, 100)]
    windowed.tick(at(200))
    assert windowed.buckets == {}


def brute_force_firings(times: list[int], threshold: int, within: int) -> int:
    """Fire when `threshold` unconsumed events lie within a span of `within` ending now."""
    fired, unconsumed = 0, []
    for t in times:
        unconsumed.append(t)
        recent = [u for u in unconsumed if not within or u > t - within]
        if len(recent) >= threshold:
            fired += 1
            unconsumed = []
    return fired


@settings(max_examples=200, deadline=None)
@given(gaps=st.lists(st.integers(min_value=0, max_value=20), max_size=40),
       threshold=st.integers(min_value=1, max_value=5),
       within=st.integers(min_value=0, max_value=30))
def test_reactive_firings_equal_a_brute_force_sliding_window(
        gaps: list[int], threshold: int, within: int) -> None:
    times = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    trigger = EventTrigger(expect="a", threshold=threshold, within=within)
    assert len(feed(trigger, [ev("a", t) for t in times])) == \
        brute_force_firings(times, threshold, within)


def test_reactive_after_opens_a_window_that_does_not_count_its_opener() -> None:
    trigger = EventTrigger(expect="order.complete", after="order.created", within=60)
    events = [ev("order.complete", 0), ev("order.created", 5), ev("order.complete", 30),
              ev("order.complete", 40)]
    firings = feed(trigger, events)
    assert [f.fired_at for f in firings] == [at(30)]  # the first came before any 'after'


def test_reactive_after_window_expires_without_firing() -> None:
    trigger = EventTrigger(expect="done", after="start", within=60)
    assert feed(trigger, [ev("start", 0), ev("done", 60)]) == []
    assert len(feed(trigger, [ev("start", 0), ev("done", 61), ev("start", 62),
                              ev("done", 63)])) == 1


def test_a_heartbeat_in_after_and_expect_counts_then_opens_the_next_window() -> None:
    trigger = EventTrigger(expect="hb", after="hb", threshold=2, within=100)
    firings = feed(trigger, [ev("hb", t) for t in (0, 1, 2, 3, 4)])
    # 0 opens; 1, 2 count -> fire at 2 and 2 opens; 3, 4 count -> fire at 4.
    assert [f.fired_at for f in firings] == [at(2), at(4)]


# -- Proactive ------------------------------------------------------------------------------

def test_proactive_fires_exactly_at_the_end_of_a_silent_window() -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", within=30)
    evaluator = EventTriggerEvaluator(trigger)
    assert evaluator.tick(at(0)) == []
    assert evaluator.next_deadline() == at(30)
    assert evaluator.tick(at(29.999)) == []
    firings = evaluator.tick(at(30))
    assert [f.fired_at for f in firings] == [at(30)] and firings[0].count == 0
    assert evaluator.next_deadline() == at(60)  # the next window starts where this ended
    assert [f.fired_at for f in evaluator.tick(at(65))] == [at(60)]  # a late tick
    assert evaluator.next_deadline() == at(90)  # does not shift the windows


def test_proactive_does_not_fire_when_the_expected_event_comes() -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", within=30)
    evaluator = EventTriggerEvaluator(trigger)
    evaluator.tick(at(0))
    assert evaluator.handle(ev("hb", 10)) == []
    assert evaluator.tick(at(30)) == []
    assert [f.fired_at for f in evaluator.tick(at(60))] == [at(60)]


def test_proactive_fires_when_fewer_than_threshold_come() -> None:
    trigger = EventTrigger(expect="row", posture="Proactive", threshold=3, within=60)
    evaluator = EventTriggerEvaluator(trigger)
    evaluator.tick(at(0))
    evaluator.handle(ev("row", 1))
    evaluator.handle(ev("row", 2))
    firings = evaluator.tick(at(61))
    assert len(firings) == 1 and firings[0].count == 2 and firings[0].fired_at == at(60)


def test_proactive_after_fires_when_the_follow_up_does_not_come() -> None:
    trigger = EventTrigger(expect="order.complete", after="order.created",
                           posture="Proactive", within=timedelta(minutes=5),
                           for_each={"prefect.resource.id"})
    evaluator = EventTriggerEvaluator(trigger)
    created_a, created_b = ev("order.created", 0, "order.a"), ev("order.created", 10, "order.b")
    evaluator.handle(created_a)
    evaluator.handle(created_b)
    evaluator.handle(ev("order.complete", 100, "order.a"))
    assert evaluator.next_deadline() == at(310)  # only order.b's window is still open
    firings = evaluator.tick(at(310))
    assert [(f.labels, f.event) for f in firings] == [
        ({"tasks-core.resource.id": "order.b"}, created_b)]
    assert evaluator.next_deadline() is None  # waits for the next 'after'


def test_proactive_heartbeats_keep_it_quiet_and_it_fires_when_they_stop() -> None:
    trigger = EventTrigger(expect="hb", after="hb", posture="Proactive", within=30)
    firings = replay(trigger, [ev("hb", t) for t in (0, 20, 40, 60)], end=at(200))
    assert [f.fired_at for f in firings] == [at(90)]


def test_an_expired_proactive_window_closes_when_a_later_event_arrives() -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", within=30)
    evaluator = EventTriggerEvaluator(trigger)
    evaluator.tick(at(0))
    firings = evaluator.handle(ev("hb", 45))  # no tick came at 30
    assert [f.fired_at for f in firings] == [at(30)]
    assert evaluator.tick(at(60)) == []  # 45 counted in the window 30..60


def test_proactive_after_a_long_absence_fires_once_and_restarts_from_now() -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", within=30)
    evaluator = EventTriggerEvaluator(trigger)
    evaluator.tick(at(0))
    assert [f.fired_at for f in evaluator.tick(at(1000))] == [at(30)]
    assert evaluator.next_deadline() == at(1030)


def test_proactive_for_each_keeps_a_window_per_value() -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", within=30,
                           for_each={"worker"})
    evaluator = EventTriggerEvaluator(trigger)
    evaluator.tick(at(0))
    evaluator.handle(ev("hb", 1, worker="w1"))
    evaluator.handle(ev("hb", 2, worker="w2"))
    evaluator.handle(ev("hb", 31, worker="w1"))
    # each value's first heartbeat opens (and fills) its window: 1..31 and 2..32
    assert evaluator.tick(at(32)) == []
    assert evaluator.next_deadline() == at(61)
    firings = evaluator.tick(at(62))  # w1 beat at 31 (window 31..61); w2 fell silent
    assert [(f.labels, f.fired_at) for f in firings] == [({"worker": "w2"}, at(62))]
    assert evaluator.next_deadline() == at(91)  # w2 fired once and waits to be seen again
    assert list(evaluator.buckets) == [("w1",)]


# -- for_each -------------------------------------------------------------------------------

def test_reactive_for_each_counts_each_value_apart() -> None:
    trigger = EventTrigger(expect="fail", threshold=2, within=60,
                           for_each={"related:flow:prefect.resource.id"})
    def failed(t: float, flow: str) -> Event:
        return ev("fail", t, related=[{"tasks-core.resource.id": flow,
                                       "tasks-core.resource.role": "flow"}])
    firings = feed(trigger, [failed(0, "f1"), failed(1, "f2"), failed(2, "f1"),
                             failed(3, "f3"), failed(4, "f2")])
    assert [(f.fired_at, f.labels) for f in firings] == [
        (at(2), {"related:flow:tasks-core.resource.id": "f1"}),
        (at(4), {"related:flow:tasks-core.resource.id": "f2"})]


# -- composites ------------------------------------------------------------------------------

def test_compound_all_within_a_window() -> None:
    trigger = CompoundTrigger(require="all", within=60, triggers=[
        {"expect": ["a"]}, {"expect": ["b"]}])
    assert feed(trigger, [ev("a", 0), ev("b", 61)]) == []
    firings = feed(trigger, [ev("a", 0), ev("b", 61), ev("a", 100)])
    assert [f.fired_at for f in firings] == [at(100)]
    assert [c.trigger for c in firings[0].children] == ["1", "0"]


def test_compound_any_fires_on_each_child() -> None:
    trigger = CompoundTrigger(require="any", triggers=[{"expect": ["a"]}, {"expect": ["b"]}])
    assert [f.fired_at for f in feed(trigger, [ev("a", 0), ev("b", 1)])] == [at(0), at(1)]


def test_compound_n_of_three() -> None:
    trigger = CompoundTrigger(require=2, triggers=[
        {"expect": ["a"]}, {"expect": ["b"]}, {"expect": ["c"]}])
    firings = feed(trigger, [ev("a", 0), ev("a", 1), ev("c", 2), ev("b", 3)])
    assert [f.fired_at for f in firings] == [at(2)]  # a twice is one child


def test_sequence_needs_its_order() -> None:
    trigger = SequenceTrigger(within=60, triggers=[{"expect": ["a"]}, {"expect": ["b"]}])
    assert feed(trigger, [ev("b", 0), ev("a", 1)]) == []
    assert [f.fired_at for f in feed(trigger, [ev("b", 0), ev("a", 1), ev("b", 2)])] == [at(2)]
    assert feed(trigger, [ev("a", 0), ev("b", 61)]) == []


def test_a_compound_with_a_proactive_child_fires_on_its_deadline() -> None:
    trigger = CompoundTrigger(require="all", within=120, triggers=[
        {"expect": ["deploy.started"]},
        {"expect": ["hb"], "posture": "Proactive", "within": 30}])
    evaluator = evaluator_for(trigger)
    evaluator.tick(at(0))
    assert evaluator.handle(ev("deploy.started", 5)) == []
    assert evaluator.next_deadline() == at(30)
    assert [f.fired_at for f in evaluator.tick(at(30))] == [at(30)]


# -- state and ids ----------------------------------------------------------------------------

TRIGGERS = [
    EventTrigger(expect="a", threshold=2, within=30, for_each={"k"}),
    EventTrigger(expect="b", after="a", posture="Proactive", within=20),
    SequenceTrigger(within=100, triggers=[{"expect": ["a"], "threshold": 2},
                                          {"expect": ["b"]}]),
]
STREAM = [ev("a", 0, k="1"), ev("a", 3, k="2"), ev("b", 4), ev("a", 8, k="1"),
          ev("b", 9), ev("a", 40, k="2"), ev("a", 41, k="2"), ev("b", 70)]


def test_saved_state_resumes_exactly_and_gives_the_same_firing_ids() -> None:
    for trigger in TRIGGERS:
        whole = replay(trigger, STREAM, end=at(200))
        for cut in range(len(STREAM) + 1):
            first = evaluator_for(trigger)
            firings = [f for e in STREAM[:cut] for f in first.tick(e.occurred) + first.handle(e)]
            saved = json.loads(json.dumps(first.to_state()))
            second = restore_evaluator(trigger, saved)
            firings += [f for e in STREAM[cut:] for f in second.tick(e.occurred)
                        + second.handle(e)]
            firings += second.tick(at(200))
            assert [f.id for f in firings] == [f.id for f in whole], (trigger, cut)
        assert whole, trigger


def test_replaying_the_same_events_gives_the_same_firing_ids() -> None:
    trigger = EventTrigger(expect="a")
    events = [ev("a", 0), ev("a", 1)]
    first, again = feed(trigger, events), feed(trigger, events)
    assert [f.id for f in first] == [f.id for f in again]
    assert len({f.id for f in first}) == 2


def test_a_firing_round_trips_through_json() -> None:
    firing = feed(CompoundTrigger(require="all", triggers=[{"expect": ["a"]},
                                                           {"expect": ["b"]}]),
                  [ev("a", 0), ev("b", 1)])[0]
    assert Firing.model_validate_json(firing.model_dump_json()) == firing


@settings(max_examples=150, deadline=None)
@given(times=st.lists(st.integers(min_value=0, max_value=300), max_size=30),
       threshold=st.integers(min_value=1, max_value=3),
       within=st.integers(min_value=10, max_value=60))
def test_proactive_firings_equal_back_to_back_windows_counted_by_hand(
        times: list[int], threshold: int, within: int) -> None:
    trigger = EventTrigger(expect="hb", posture="Proactive", threshold=threshold,
                           within=within)
    firings = replay(trigger, [ev("hb", t) for t in times], start=at(0), end=at(300))
    windows = range(0, 300 - within + 1, within)  # those that end by the end of the replay
    expected = [at(s + within) for s in windows
                if sum(1 for t in times if s <= t < s + within) < threshold]
    assert [f.fired_at for f in firings] == expected


@settings(max_examples=60, deadline=None)
@given(stream=st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 15),
                                 st.sampled_from("12")), max_size=25),
       cut=st.integers(min_value=0, max_value=25))
def test_resuming_from_saved_state_anywhere_changes_nothing(
        stream: list[tuple[str, int, str]], cut: int) -> None:
    events, clock = [], 0
    for name, gap, k in stream:
        clock += gap
        events.append(ev(name, clock, k=k))
    for trigger in TRIGGERS:
        whole = replay(trigger, events, start=at(0), end=at(clock + 100))
        first = evaluator_for(trigger)
        firings = first.tick(at(0))
        for e in events[:cut]:
            firings += _until(first, e) + first.handle(e)
        second = restore_evaluator(trigger, json.loads(json.dumps(first.to_state())))
        for e in events[cut:]:
            firings += _until(second, e) + second.handle(e)
        firings += _until(second, ev("x", clock + 100)) + second.tick(at(clock + 100))
        assert [f.id for f in firings] == [f.id for f in whole]


def _until(evaluator: object, event: Event) -> list[Firing]:
    """Tick `evaluator` at each deadline up to `event`'s time, as the engine would."""
    assert isinstance(evaluator, EventTriggerEvaluator | CompositeEvaluator)
    firings: list[Firing] = []
    while (deadline := evaluator.next_deadline()) is not None and deadline <= event.occurred:
        firings += evaluator.tick(deadline)
    return firings
