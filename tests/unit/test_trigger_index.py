"""TriggerIndex: event name -> candidate triggers by literal prefix, never missing one."""

from __future__ import annotations

from tasks_core.events import CompoundTrigger, EventTrigger
from tasks_core.events.triggers import TriggerIndex
from tasks_core.events.triggers.index import name_prefixes


def build(count: int = 1000) -> tuple[TriggerIndex[str], dict[str, EventTrigger]]:
    """`count` triggers on their own event names; 10 of them on tasks-core.flow-run.*."""
    index: TriggerIndex[str] = TriggerIndex()
    triggers = {}
    for n in range(count):
        expect = {f"tasks-core.flow-run.{'Completed' if n % 2 else '*'}"} if n < 10 \
            else {f"acme.team{n}.report.*", f"acme.team{n}.alert"}
        triggers[f"t{n}"] = EventTrigger(expect=expect)
        index.add(f"t{n}", triggers[f"t{n}"])
    return index, triggers


def test_with_1000_triggers_only_the_10_that_can_match_are_candidates() -> None:
    index, _ = build()
    assert len(index) == 1000
    found = index.candidates("tasks-core.flow-run.Completed")
    assert found == {f"t{n}" for n in range(10)}
    assert index.candidates("tasks-core.flow-run.Failed") == {f"t{n}" for n in range(0, 10, 2)}
    assert index.candidates("acme.team500.report.daily") == {"t500"}
    assert index.candidates("other.event") == set()


def test_candidates_never_miss_a_trigger_that_matches() -> None:
    index, triggers = build(300)
    index.add("star", EventTrigger(expect={"*"}))
    index.add("neg", EventTrigger(expect={"!acme.*"}))
    index.add("bracket", EventTrigger(expect={"[at]*.alert"}))
    triggers.update(star=EventTrigger(expect={"*"}), neg=EventTrigger(expect={"!acme.*"}),
                    bracket=EventTrigger(expect={"[at]*.alert"}))
    names = ["tasks-core.flow-run.Completed", "acme.team42.alert", "acme.team42.report.x",
             "acme.team4", "x", "", "tasks-core.flow-run.", "acme.team299.alert"]
    for name in names:
        matching = {k for k, t in triggers.items() if t.matcher.expects(name)}
        found = index.candidates(name)
        assert matching <= found, name
        assert {"star", "neg", "bracket"} <= found
        assert len(found) <= len(matching) + 3 + 2, name


def test_after_globs_and_composite_children_are_filed_too() -> None:
    trigger = CompoundTrigger(require="any", triggers=[
        {"expect": ["acme.done"], "after": ["acme.start.*"]}, {"expect": ["x.?"]}])
    assert name_prefixes(trigger) == {"acme.done", "acme.start.", "x."}
    index: TriggerIndex[int] = TriggerIndex()
    index.add(1, trigger)
    assert index.candidates("acme.start.now") == {1}
    assert index.candidates("x.y") == {1}
    assert index.candidates("acme.other") == set()


def test_replacing_and_removing_a_trigger() -> None:
    index: TriggerIndex[str] = TriggerIndex()
    index.add("a", EventTrigger(expect={"one.*"}))
    index.add("a", EventTrigger(expect={"two.*"}))
    assert index.candidates("one.x") == set() and index.candidates("two.x") == {"a"}
    index.remove("a")
    index.remove("missing")
    assert len(index) == 0 and "a" not in index and index.candidates("two.x") == set()
