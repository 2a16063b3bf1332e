"""The state history as stored in a run's record (tasks_core/state_history.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tasks_core.records import StateEntry
from tasks_core.state_history import (
    decode_entry,
    encode_entry,
    entries_from_fields,
    epoch_us,
    is_history_field,
)
from tasks_core.states import StateType

T0 = datetime(2026, 11, 30, 11, 54, 7, 242228, tzinfo=UTC)


def test_an_entry_keeps_only_what_is_not_derivable_and_fits_a_listpack_value() -> None:
    text = encode_entry("Completed", "COMPLETED", T0, "")
    assert json.loads(text) == ["Completed", epoch_us(T0)]
    assert len(text.encode()) <= 64  # Redis's hash-max-listpack-value default
    assert json.loads(encode_entry("Failed", "FAILED", T0, "boom")) == [
        "Failed", epoch_us(T0), "boom"]
    assert json.loads(encode_entry("Running", "PENDING", T0, "")) == [
        "Running", epoch_us(T0), "", "PENDING"]


@pytest.mark.parametrize(("name", "kind", "message"), [
    ("Pending", "PENDING", ""), ("Failed", "FAILED", "it broke: ünïcode"),
    ("AwaitingRetry", "SCHEDULED", "retry 1 of 3"), ("Running", "PENDING", "")])
def test_an_entry_reads_back_as_it_was_written(name: str, kind: str, message: str) -> None:
    entry = StateEntry.model_validate(decode_entry(encode_entry(name, kind, T0, message)))
    assert (entry.name, entry.type, entry.timestamp, entry.message) == (
        name, StateType(kind), T0, message)


def test_times_are_exact_to_the_microsecond_and_naive_times_are_utc() -> None:
    for at in (T0, T0 + timedelta(microseconds=1), datetime(1999, 12, 31, 23, 59, 59, 999999,
                                                             tzinfo=UTC)):
        assert decode_entry(encode_entry("Pending", "PENDING", at, ""))["timestamp"] == at
    assert epoch_us(T0.replace(tzinfo=None)) == epoch_us(T0)


def test_entries_written_as_objects_before_this_layout_still_read() -> None:
    old = {"name": "Running", "timestamp": T0.isoformat()}
    assert StateEntry.model_validate(decode_entry(json.dumps(old))).timestamp == T0


@pytest.mark.parametrize("text", ['"Running"', '["Running"]', '["Running", "noon"]', "[]"])
def test_a_malformed_entry_is_named(text: str) -> None:
    with pytest.raises(ValueError, match="not a state history entry"):
        decode_entry(text)


def test_entries_come_back_in_number_order_from_a_start() -> None:
    fields = {f"h{i}": encode_entry("Running", "RUNNING", T0 + timedelta(seconds=i), "")
              for i in (10, 2, 1, 9)}
    fields.update(hn="10", id="r", h="not one", hx="not one")
    seconds = [(e["timestamp"] - T0).total_seconds() for e in entries_from_fields(fields)]
    assert seconds == [1, 2, 9, 10]
    assert len(entries_from_fields(fields, start=2)) == 2
    assert [is_history_field(n) for n in ("hn", "h1", "h12", "h", "hx", "history")] == [
        True, True, True, False, False, False]
