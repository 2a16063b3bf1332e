"""Pure matching: globs (as fnmatchcase, plus '!'), resource specs, spellings, buckets."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks_core.events import EventTrigger
from tasks_core.events.triggers import spelling
from tasks_core.events.triggers.globs import GlobError, compile_glob, literal_prefix
from tasks_core.events.triggers.specs import compile_spec, find_label
from tests.unit.trigger_events import ev, flow_completed

GLOB_CHARS = st.text(alphabet="ab.-*?[]!", min_size=1, max_size=8)
VALUES = st.text(alphabet="ab.-[]!", max_size=8)


@given(GLOB_CHARS.filter(lambda g: not g.startswith("!")), VALUES)
def test_a_glob_matches_exactly_what_fnmatchcase_matches(glob: str, value: str) -> None:
    try:
        compiled = compile_glob(glob)
    except GlobError:
        assert "[" in glob  # only an unclosed bracket is refused here
        return
    assert compiled.matches(value) == fnmatch.fnmatchcase(value, glob)


@given(GLOB_CHARS.filter(lambda g: not g.startswith("!")), VALUES)
def test_a_leading_bang_negates(glob: str, value: str) -> None:
    try:
        compiled = compile_glob("!" + glob)
    except GlobError:
        return
    assert compiled.matches(value) == (not fnmatch.fnmatchcase(value, glob))


def test_globs_star_anywhere_question_mark_and_case() -> None:
    assert compile_glob("tasks-core.*.Completed").matches("tasks-core.flow-run.Completed")
    assert compile_glob("*run*").matches("tasks-core.task-run.Failed")
    assert compile_glob("acme.?").matches("acme.x")
    assert not compile_glob("acme.?").matches("acme.xy")
    assert not compile_glob("Acme.*").matches("acme.x")
    assert compile_glob("*").matches("")


def test_a_missing_value_never_matches_even_negated() -> None:
    assert not compile_glob("*").matches(None)
    assert not compile_glob("!x").matches(None)


@pytest.mark.parametrize("glob", ["", "!", "a[", "[!", "x[]"])
def test_unusable_globs_are_refused(glob: str) -> None:
    with pytest.raises(GlobError):
        compile_glob(glob)


def test_a_literal_bracket_can_be_written() -> None:
    assert compile_glob("a[[]b").matches("a[b")
    assert compile_glob("a[]]").matches("a]")


def test_literal_prefix_stops_at_the_first_wildcard() -> None:
    assert literal_prefix("tasks-core.flow-run.*") == "tasks-core.flow-run."
    assert literal_prefix("acme.order.created") == "acme.order.created"
    assert literal_prefix("a?b*") == "a"
    assert literal_prefix("[ab]x") == ""
    assert compile_glob("!acme.*").prefix == ""


def test_spec_labels_are_anded_values_ored() -> None:
    spec = compile_spec({"env": ["prod", "stag*"], "team": "data"})
    assert spec.matches({"env": "staging", "team": "data"})
    assert not spec.matches({"env": "dev", "team": "data"})
    assert not spec.matches({"env": "prod", "team": "web"})
    assert not spec.matches({"env": "prod"})  # a missing label never matches


def test_a_negated_value_in_a_list_is_still_an_or() -> None:
    # Prefect's documented gotcha: the positive glob already takes dev-x.
    assert compile_spec({"name": ["dev-*", "!dev-x"]}).matches({"name": "dev-x"})
    assert not compile_spec({"name": "!dev-x"}).matches({"name": "dev-x"})
    assert not compile_spec({"name": "!dev-x"}).matches({})


def test_the_empty_spec_includes_everything_even_no_related() -> None:
    assert compile_spec({}).includes([])
    assert not compile_spec({"a": "*"}).includes([])


def test_match_related_specs_may_be_met_by_different_resources() -> None:
    trigger = EventTrigger(expect="x", match_related=[
        {"tasks-core.resource.role": "flow", "tasks-core.resource.id": "tasks-core.flow.etl*"},
        {"tasks-core.resource.role": "tag", "tasks-core.resource.id": "tasks-core.tag.nightly"}])
    flow = {"tasks-core.resource.role": "flow", "tasks-core.resource.id": "tasks-core.flow.etl2"}
    tag = {"tasks-core.resource.role": "tag", "tasks-core.resource.id": "tasks-core.tag.nightly"}
    other = {"tasks-core.resource.role": "tag", "tasks-core.resource.id": "tasks-core.tag.x"}
    assert trigger.matcher.covers(ev("x", 0, related=[flow, tag]))
    assert not trigger.matcher.covers(ev("x", 0, related=[flow, other]))
    assert not trigger.matcher.covers(ev("x", 0, related=[tag]))


def test_one_related_spec_needs_one_resource_with_all_its_labels() -> None:
    trigger = EventTrigger(expect="x", match_related={"tasks-core.resource.role": "flow",
                                                      "tasks-core.resource.id": "*.etl"})
    split = [{"tasks-core.resource.role": "flow", "tasks-core.resource.id": "f.other"},
             {"tasks-core.resource.role": "tag", "tasks-core.resource.id": "t.etl"}]
    assert not trigger.matcher.covers(ev("x", 0, related=split))


def test_the_course_trigger_covers_a_completed_flow_run_and_nothing_else() -> None:
    trigger = EventTrigger(match_related={"prefect.resource.id": "prefect.flow.*"},
                           expect={"prefect.flow-run.Completed"})
    assert trigger.matcher.covers(flow_completed(0))
    failed = flow_completed(0).model_copy(update={"event": "tasks-core.flow-run.Failed"})
    assert not trigger.matcher.covers(failed)
    assert not trigger.matcher.covers(ev("tasks-core.flow-run.Completed", 0))  # no flow


def test_expect_and_after_are_separate_and_both_cover() -> None:
    trigger = EventTrigger(expect="order.complete", after="order.created")
    m = trigger.matcher
    assert m.expects("order.complete") and not m.expects("order.created")
    assert m.starts_after("order.created") and not m.starts_after("order.complete")
    assert m.covers(ev("order.created", 0)) and not m.covers(ev("order.other", 0))


def test_bucket_keys_read_labels_and_related_roles_in_sorted_order() -> None:
    trigger = EventTrigger(expect="*", for_each={"related:flow:prefect.resource.id", "env"})
    event = flow_completed(0, flow="etl").model_copy(
        update={"resource": {"tasks-core.resource.id": "r", "env": "prod"}})
    assert trigger.matcher.for_each == ("env", "related:flow:tasks-core.resource.id")
    assert trigger.matcher.bucket_key(event) == ("prod", "tasks-core.flow.etl")
    assert trigger.matcher.bucket_key(ev("y", 0)) == ("", "")


def test_find_label_takes_the_first_related_resource_in_the_role_with_the_label() -> None:
    related = [{"tasks-core.resource.role": "tag", "tasks-core.resource.id": "t1"},
               {"tasks-core.resource.role": "tag", "tasks-core.resource.id": "t2"}]
    assert find_label({}, related, "related:tag:tasks-core.resource.id") == "t1"
    assert find_label({}, related, "related:flow:tasks-core.resource.id") is None
    assert find_label({"a": "1"}, related, "a") == "1"


@pytest.mark.parametrize(("given_", "stored"), [
    ("prefect.flow-run.Completed", "tasks-core.flow-run.Completed"),
    ("!prefect.flow-run.*", "!tasks-core.flow-run.*"),
    ("prefect-cloud.webhook.received", "prefect-cloud.webhook.received"),
    ("acme.prefect.thing", "acme.prefect.thing"),
    ("prefect*", "prefect*"),
])
def test_event_name_spelling(given_: str, stored: str) -> None:
    assert spelling.event_name(given_) == stored


def test_label_spelling_rewrites_keys_and_only_id_values() -> None:
    assert spelling.label_key("prefect.resource.role") == "tasks-core.resource.role"
    assert spelling.label_key("prefect.state-name") == "tasks-core.state-name"
    assert spelling.label_key("acme.key") == "acme.key"
    assert spelling.label_value("tasks-core.resource.id", "prefect.flow.*") == "tasks-core.flow.*"
    assert spelling.label_value("tasks-core.resource.role", "prefect.flow") == "prefect.flow"
    assert spelling.for_each_label("related:flow:prefect.resource.name") == \
        "related:flow:tasks-core.resource.name"
    assert spelling.for_each_label("prefect.resource.id") == "tasks-core.resource.id"
