"""The event model, its limits, Prefect's spellings and the feed's filters (no Redis)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tasks_core.errors import EventError, ValidationError
from tasks_core.events import Event, EventLimits, build_event
from tasks_core.events.feed import EventFilter
from tasks_core.events.spelling import (
    normalize_id,
    normalize_label_key,
    normalize_name,
    normalize_resource,
)

RID = "tasks-core.resource.id"
ROLE = "tasks-core.resource.role"
SMALL = EventLimits(name_max_chars=10, labels_max=3, related_max=2, payload_max_bytes=20)


def test_a_built_event_has_its_fields_and_defaults() -> None:
    before = datetime.now(UTC)
    event = build_event("acme.x", {RID: "acme.1"}, payload={"n": 1},
                        related=[{RID: "acme.2", ROLE: "owner"}])
    assert event.event == "acme.x" and event.resource_id == "acme.1"
    assert event.payload == {"n": 1} and event.related_ids() == ["acme.2"]
    assert str(uuid.UUID(event.id)) == event.id
    assert before <= event.occurred <= datetime.now(UTC)
    assert event.received is None and event.follows is None


def test_follows_takes_an_event_or_an_id_and_id_a_uuid() -> None:
    first = build_event("a.b", {RID: "r"})
    given = uuid.uuid4()
    second = build_event("a.c", {RID: "r"}, follows=first, id=given)
    assert second.follows == first.id and second.id == str(given)
    assert build_event("a.c", {RID: "r"}, follows="xyz").follows == "xyz"


def test_one_related_dict_is_one_related_resource() -> None:
    """As the CLI's ``--related`` takes it (a new user's ``related={...}`` raised an
    AttributeError before)."""
    event = build_event("a.b", {RID: "r"}, related={RID: "r2", ROLE: "owner"})
    assert event.related_ids() == ["r2"]


def test_naive_occurred_is_utc() -> None:
    event = build_event("a.b", {RID: "r"}, occurred=datetime(2026, 1, 2, 3, 4))
    assert event.occurred == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"resource": {"x": "1"}}, "tasks-core.resource.id"),
    ({"resource": {RID: ""}}, "tasks-core.resource.id"),
    ({"related": [{RID: "r2"}]}, "tasks-core.resource.role"),
    ({"related": [{ROLE: "owner"}]}, "tasks-core.resource.id"),
    ({"resource": {RID: "r", "n": 1}}, "resource.n"),
    ({"event": ""}, "event"),
    ({"payload": [1, 2]}, "payload must be a dict"),
    ({"related": "r2"}, "related must be a list"),
    ({"related": [{RID: "r2", ROLE: "x"}, "r3"]}, "1] must be a dict"),
])
def test_a_bad_field_is_an_event_error_naming_it(kwargs: dict[str, object],
                                                 fragment: str) -> None:
    args: dict[str, object] = {"event": "a.b", "resource": {RID: "r"}, **kwargs}
    with pytest.raises(EventError, match=fragment.replace(".", r"\.")) as caught:
        build_event(**args)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValidationError)


@pytest.mark.parametrize(("kwargs", "fragments"), [
    ({"event": "a" * 11}, ("11 characters", "limit of 10", "event_name_max_chars")),
    ({"resource": {RID: "r", "a": "1", "b": "2", "c": "3"}},
     ("resource has 4 labels", "limit of 3", "event_labels_max")),
    ({"related": [{RID: "r", ROLE: "x", "a": "1", "b": "2"}]},
     ("related resource 0 has 4 labels", "event_labels_max")),
    ({"related": [{RID: f"r{i}", ROLE: "x"} for i in range(3)]},
     ("3 related resources", "limit of 2", "event_related_max")),
    ({"payload": {"text": "x" * 20}}, ("bytes of JSON", "limit of 20",
                                       "event_payload_max_bytes")),
    ({"payload": {"f": object()}}, ("payload cannot be written as JSON",)),
])
def test_each_limit_has_its_own_error(kwargs: dict[str, object],
                                      fragments: tuple[str, ...]) -> None:
    args: dict[str, object] = {"event": "a.b", "resource": {RID: "r"}, **kwargs}
    with pytest.raises(EventError) as caught:
        build_event(**args, limits=SMALL)  # type: ignore[arg-type]
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_an_event_at_each_limit_passes() -> None:
    event = build_event("a" * 10, {RID: "r", "a": "1", "b": "2"},
                        related=[{RID: "r1", ROLE: "x"}, {RID: "r2", ROLE: "y"}],
                        payload={"t": "x" * 10}, limits=SMALL)  # {"t":"xxxxxxxxxx"}: 18 bytes
    assert event.event == "a" * 10


def test_default_limits_are_the_documented_ones() -> None:
    assert EventLimits() == EventLimits(name_max_chars=1024, labels_max=500, related_max=100,
                                        payload_max_bytes=262_144)


def test_prefect_spellings_are_stored_in_tasks_cores() -> None:
    assert normalize_name("prefect.flow-run.Completed") == "tasks-core.flow-run.Completed"
    assert normalize_name("prefect.flow-run.*") == "tasks-core.flow-run.*"
    assert normalize_name("acme.prefect.thing") == "acme.prefect.thing"
    assert normalize_name("kiki.sent.event!") == "kiki.sent.event!"
    assert normalize_label_key("prefect.resource.role") == "tasks-core.resource.role"
    assert normalize_id("prefect.flow.etl") == "tasks-core.flow.etl"
    assert normalize_resource({"prefect.resource.id": "prefect.deployment.1",
                               "prefect.resource.name": "prefect.x", "team": "prefect.y"}) == {
        RID: "tasks-core.deployment.1", "tasks-core.resource.name": "prefect.x",
        "team": "prefect.y"}


def test_a_native_label_given_with_its_prefect_spelling_wins() -> None:
    assert normalize_resource({RID: "a", "prefect.resource.id": "b"}) == {RID: "a"}
    assert normalize_resource({"prefect.resource.id": "b", RID: "a"}) == {RID: "a"}


def test_the_course_example_event_is_built_in_tasks_cores_spelling() -> None:
    event = build_event(event="kiki.sent.event!",
                        resource={"prefect.resource.id": "developer.kiki"},
                        payload={"name": "kiki"},
                        related=[{"prefect.resource.id": "prefect.flow.x",
                                  "prefect.resource.role": "flow"}])
    assert event.resource == {RID: "developer.kiki"}
    assert event.related == [{RID: "tasks-core.flow.x", ROLE: "flow"}]


def _event(name: str, rid: str, related: tuple[str, ...] = ()) -> Event:
    return Event(event=name, resource={RID: rid},
                 related=[{RID: r, ROLE: "x"} for r in related])


def test_filters_are_globs_anded_in_either_spelling() -> None:
    done = _event("tasks-core.flow-run.Completed", "tasks-core.flow-run.1",
                  ("tasks-core.flow.etl", "tasks-core.tag.nightly"))
    assert EventFilter().matches(done)
    assert EventFilter(events=("*.Failed", "*.Completed")).normalized().matches(done)
    assert EventFilter(events=("prefect.flow-run.*",)).normalized().matches(done)
    assert not EventFilter(events=("prefect.task-run.*",)).normalized().matches(done)
    assert EventFilter(resource="prefect.flow-run.?").normalized().matches(done)
    assert not EventFilter(resource="tasks-core.flow-run.2").matches(done)
    assert EventFilter(related="*.tag.night*").matches(done)
    assert not EventFilter(related="*.deployment.*").matches(done)
    assert not EventFilter(events=("*.Completed",), related="*.deployment.*").matches(done)


def test_a_time_window_is_a_range_of_stream_ids() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    window = EventFilter(since=since, until=since + timedelta(seconds=1))
    assert window.min_id == f"{int(since.timestamp() * 1000)}-0"
    assert window.max_id.startswith(f"{int(since.timestamp() * 1000) + 1000}-")
    assert EventFilter().min_id == "-" and EventFilter().max_id == "+"


def test_received_is_stamped_on_the_event_never_in_its_payload() -> None:
    from tasks_core.events.client import _received

    event = build_event("a.b", {RID: "r"}, payload={"k": '"received":null', "received": None},
                        follows="f-1")
    text = event.model_dump_json()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    [(event_id, stamped)] = _received([(event.id, text)], at)
    parsed = Event.model_validate_json(stamped)
    assert event_id == event.id and parsed.received == at
    assert parsed.payload == {"k": '"received":null', "received": None}
    assert parsed.follows == "f-1"
