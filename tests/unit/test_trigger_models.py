"""Trigger models: the course's spellings, Prefect ports, JSON round trips, and every
refusal of issue 11 item 13 as its own test (the error names the field)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tasks_core.errors import ValidationError
from tasks_core.events import (
    CompoundTrigger,
    DeploymentCompoundTrigger,
    DeploymentEventTrigger,
    DeploymentSequenceTrigger,
    EventTrigger,
    SequenceTrigger,
    TriggerError,
)
from tasks_core.events.triggers import parse_trigger


def test_the_course_dep_trigger_validates_and_is_stored_in_our_spelling() -> None:
    trigger = DeploymentEventTrigger(
        name="Upstream Flow - Pipeline",
        enabled=True,
        match_related={"prefect.resource.id": "prefect.flow.*"},
        expect={"prefect.flow-run.Completed"},
    )
    assert trigger.match_related == {"tasks-core.resource.id": "tasks-core.flow.*"}
    assert trigger.expect == {"tasks-core.flow-run.Completed"}
    assert trigger.name == "Upstream Flow - Pipeline"
    assert trigger.posture == "Reactive" and trigger.threshold == 1
    assert trigger.as_trigger() == EventTrigger(
        match_related={"tasks-core.resource.id": "tasks-core.flow.*"},
        expect={"tasks-core.flow-run.Completed"})


def test_prefect_ports_with_after_for_each_and_parameters() -> None:
    trigger = DeploymentEventTrigger(
        expect={"order.complete"}, after={"order.created"},
        for_each={"prefect.resource.id"},
        parameters={"user_id": "{{ event.resource.id }}"})
    assert trigger.for_each == {"tasks-core.resource.id"}
    assert trigger.parameters == {"user_id": "{{ event.resource.id }}"}
    related = EventTrigger(expect={"prefect.flow-run.*"},
                           for_each={"related:flow:prefect.resource.id"},
                           match={"prefect.resource.id": ["prefect.flow-run.*", "x"],
                                  "prefect.state-name": "!Failed"},
                           match_related=[{"prefect.resource.role": "flow"},
                                          {"prefect.resource.role": "tag",
                                           "prefect.resource.id": "prefect.tag.nightly"}])
    assert related.for_each == {"related:flow:tasks-core.resource.id"}
    assert related.expect == {"tasks-core.flow-run.*"}
    assert related.match == {"tasks-core.resource.id": ["tasks-core.flow-run.*", "x"],
                             "tasks-core.state-name": "!Failed"}
    assert related.match_related == [
        {"tasks-core.resource.role": "flow"},
        {"tasks-core.resource.role": "tag", "tasks-core.resource.id": "tasks-core.tag.nightly"}]


def test_prefect_compound_with_dict_children_validates() -> None:
    trigger = DeploymentCompoundTrigger(
        enabled=True, name="my-compound-trigger", require="all",
        triggers=[{"type": "event", "match": {"prefect.resource.id": "my.external.resource"},
                   "expect": ["external.resource.pinged"]},
                  {"match": {"prefect.resource.id": "my.external.resource"},
                   "expect": ["external.resource.replied"]}],
        parameters={"param_1": "{{ event }}"})
    assert [type(t) for t in trigger.triggers] == [EventTrigger, EventTrigger]
    assert trigger.required == 2
    assert isinstance(trigger.as_trigger(), CompoundTrigger)


def test_children_are_read_by_prefects_discriminator_rule() -> None:
    trigger = SequenceTrigger(triggers=[
        {"triggers": [{"expect": ["a"]}], "require": "any"},
        {"triggers": [{"expect": ["b"]}, {"expect": ["c"]}]},
        {"expect": ["d"]}])
    assert [t.type for t in trigger.triggers] == ["compound", "sequence", "event"]


@pytest.mark.parametrize("trigger", [
    EventTrigger(expect={"a.*", "b"}, after={"c"}, match={"k": ["v*", "!w"]},
                 match_related=[{"tasks-core.resource.role": "flow"}], for_each={"k"},
                 posture="Proactive", threshold=2, within=timedelta(minutes=2)),
    CompoundTrigger(require=2, within=30, triggers=[
        EventTrigger(expect={"a"}), SequenceTrigger(triggers=[{"expect": ["b"]}]),
        EventTrigger(expect={"c"})]),
    DeploymentSequenceTrigger(name="n", parameters={"x": 1}, schedule_after=5,
                              triggers=[{"expect": ["a"]}, {"expect": ["b"]}]),
    DeploymentEventTrigger(expect={"*"}, description="every event, on purpose"),
])
def test_json_round_trip(trigger: EventTrigger | CompoundTrigger | SequenceTrigger) -> None:
    data = trigger.model_dump(mode="json")
    again = type(trigger).model_validate(data)
    assert again == trigger
    assert again.model_dump(mode="json") == data


def test_parse_trigger_reads_any_stored_trigger_and_refuses_bad_ones() -> None:
    stored = CompoundTrigger(require="any", triggers=[{"expect": ["a"]}]).model_dump(mode="json")
    assert parse_trigger(stored) == CompoundTrigger(require="any", triggers=[{"expect": ["a"]}])
    assert parse_trigger({"expect": ["prefect.flow-run.*"]}) == \
        EventTrigger(expect={"tasks-core.flow-run.*"})
    with pytest.raises(TriggerError, match=r"^EventTrigger: threshold: must be at least 1, got 0$"):
        parse_trigger({"expect": ["a"], "threshold": 0})


def test_within_takes_seconds_timedeltas_and_iso_durations() -> None:
    assert EventTrigger(expect="a", within=90).within == timedelta(seconds=90)
    assert EventTrigger(expect="a", within=timedelta(minutes=1)).within == timedelta(seconds=60)
    assert EventTrigger(expect="a", within="PT30S").within == timedelta(seconds=30)
    assert EventTrigger(expect="a", within=1.5).model_dump(mode="json")["within"] == 1.5


def test_a_proactive_window_left_out_or_zero_becomes_10_seconds_as_in_prefect() -> None:
    assert EventTrigger(expect="a", posture="Proactive").within == timedelta(seconds=10)
    assert EventTrigger(expect="a", posture="Proactive", within=0).within == timedelta(seconds=10)
    assert EventTrigger(expect="a", posture="Proactive", within=10).within == timedelta(seconds=10)


def test_star_expect_is_accepted_on_purpose() -> None:
    assert EventTrigger(expect={"*"}).matcher.expects("anything.at.all")


def test_trigger_error_is_a_tasks_core_validation_error() -> None:
    with pytest.raises(ValidationError):
        EventTrigger(expect="a", threshold=0)
    with pytest.raises(TriggerError, match="threshold"):
        EventTrigger.model_validate({"expect": ["a"], "threshold": 0})


# -- refusals (item 13), one each ------------------------------------------------------------

def refused(build: object, *words: str) -> str:
    assert callable(build)
    with pytest.raises(TriggerError) as caught:
        build()
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


def test_unknown_posture_is_refused() -> None:
    refused(lambda: EventTrigger(expect="a", posture="Sometimes"), "posture", "'Sometimes'",
            "'Reactive' or 'Proactive'")


def test_metric_posture_is_refused_as_unsupported() -> None:
    refused(lambda: EventTrigger(expect="a", posture="Metric"), "posture", "not supported")


@pytest.mark.parametrize("threshold", [0, -3])
def test_threshold_under_one_is_refused(threshold: int) -> None:
    refused(lambda: EventTrigger(expect="a", threshold=threshold), "threshold",
            "at least 1", str(threshold))


def test_negative_within_is_refused() -> None:
    refused(lambda: EventTrigger(expect="a", within=-5), "within", ">= 0", "-5")


def test_negative_composite_within_is_refused() -> None:
    refused(lambda: CompoundTrigger(require="any", triggers=[{"expect": ["a"]}], within=-1),
            "within", ">= 0")


def test_no_within_at_all_is_refused() -> None:
    refused(lambda: EventTrigger(expect="a", within=None), "within", "not None")


def test_proactive_within_under_10_seconds_is_refused() -> None:
    refused(lambda: EventTrigger(expect="a", posture="Proactive", within=9.5),
            "within", "Proactive", "at least 10 s", "9.5")


@pytest.mark.parametrize("require", [0, 3, -1])
def test_require_out_of_range_is_refused(require: int) -> None:
    refused(lambda: CompoundTrigger(require=require, triggers=[{"expect": ["a"]},
                                                               {"expect": ["b"]}]),
            "require", "between 1 and", "(2)", str(require))


@pytest.mark.parametrize("require", ["some", None, True, 1.5])
def test_require_of_the_wrong_kind_is_refused(require: object) -> None:
    refused(lambda: CompoundTrigger(require=require, triggers=[{"expect": ["a"]}]),
            "require", "'any', 'all' or a number")


def test_a_composite_without_children_is_refused() -> None:
    refused(lambda: SequenceTrigger(triggers=[]), "triggers", "at least one")


def test_an_unknown_child_type_is_refused() -> None:
    refused(lambda: CompoundTrigger(require="any", triggers=[{"type": "metric"}]),
            "triggers.0", "'event', 'compound' or 'sequence'")


def test_a_bad_child_is_refused_naming_its_place() -> None:
    message = refused(lambda: SequenceTrigger(triggers=[{"expect": ["a"]},
                                                        {"expect": ["b"], "threshold": 0}]),
                      "triggers.1", "threshold")
    assert message == ("SequenceTrigger: triggers.1: EventTrigger: threshold: must be at "
                       "least 1, got 0")


@pytest.mark.parametrize("build", [
    lambda: EventTrigger(),
    lambda: EventTrigger(expect=set()),
    lambda: EventTrigger(expect=[], after={"a"}),
])
def test_empty_expect_is_refused(build: object) -> None:
    refused(build, "expect", "is empty", "expect={'*'}")


@pytest.mark.parametrize("glob", ["", "!", "a[b", "tasks-core.[flow"])
def test_a_bad_event_glob_is_refused(glob: str) -> None:
    refused(lambda: EventTrigger(expect={"ok", glob}), "expect", "glob")


def test_a_bad_after_glob_is_refused() -> None:
    refused(lambda: EventTrigger(expect="a", after={"b["}), "after", "'b['", "closing ']'")


def test_a_bad_label_glob_is_refused_naming_the_label() -> None:
    refused(lambda: EventTrigger(expect="a", match={"prefect.resource.id": ["x", "y["]}),
            "match", "'tasks-core.resource.id'", "'y['")


def test_a_bad_related_glob_is_refused_naming_the_label() -> None:
    refused(lambda: EventTrigger(expect="a", match_related=[{"r": "ok"}, {"role": "!"}]),
            "match_related", "'role'", "negates nothing")


def test_a_glob_over_the_length_limit_is_refused() -> None:
    refused(lambda: EventTrigger(expect={"a" * 1025}), "expect", "1025", "1024")


def test_an_unknown_field_is_refused() -> None:
    refused(lambda: EventTrigger(expect="a", expects="b"), "expects", "not permitted")


def test_negative_schedule_after_is_refused() -> None:
    refused(lambda: DeploymentEventTrigger(expect="a", schedule_after=-1), "schedule_after",
            ">= 0")


def test_stored_json_with_a_bad_field_names_the_model_once() -> None:
    with pytest.raises(TriggerError, match=r"^EventTrigger: threshold: must be at least 1, got 0$"):
        EventTrigger.model_validate({"expect": ["a"], "threshold": 0})
