"""Pure helpers of the events API: times from queries, where a stream read starts, the SSE
frame of an event (injected time, no Redis)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tasks_core.api.events import parse_moment, sse_frame
from tasks_core.errors import ValidationError
from tasks_core.events.feed import EventFilter, follow_start
from tasks_core.events.schema import Event
from tasks_core.times import parse_since

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_query_times_are_durations_back_or_iso_with_naive_as_utc() -> None:
    assert parse_moment("90m", NOW, field="since") == NOW - timedelta(minutes=90)
    assert parse_moment("2026-11-30T10:00", NOW, field="since") == datetime(
        2026, 11, 30, 10, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    assert parse_moment("2026-11-30T10:00+02:00", NOW, field="until") == datetime(
        2026, 11, 30, 10, tzinfo=plus_two)
    with pytest.raises(ValidationError, match=r"^until: invalid time 'soon': give a duration"):
        parse_moment("soon", NOW, field="until")


def test_the_cli_reads_naive_times_as_local_time() -> None:
    local = parse_since("2026-11-30T10:00", NOW)
    assert local == datetime(2026, 11, 30, 10).astimezone()


def test_a_stream_read_starts_just_before_since_and_never_below_zero() -> None:
    assert follow_start(None) == "$"
    ms = int(NOW.timestamp() * 1000)
    assert follow_start(NOW) == f"{ms - 1}-{2**64 - 1}"
    ancient = datetime(1, 1, 1, tzinfo=UTC)
    assert follow_start(ancient) == f"0-{2**64 - 1}"
    window = EventFilter(since=ancient, until=ancient)
    assert (window.min_id, window.max_id) == ("0-0", f"0-{2**64 - 1}")
    assert EventFilter(since=NOW).min_id == f"{ms}-0"


def test_an_sse_frame_is_an_id_line_and_one_data_line() -> None:
    event = Event(event="acme.note", resource={"tasks-core.resource.id": "acme.1"},
                  payload={"text": "two\nlines"}, occurred=NOW)
    frame = sse_frame("1700000000000-3", event)
    assert frame.endswith("\n\n")
    id_line, data_line = frame.rstrip("\n").split("\n")
    assert id_line == "id: 1700000000000-3"
    assert json.loads(data_line.removeprefix("data: "))["payload"] == {"text": "two\nlines"}
