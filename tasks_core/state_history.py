"""A run's state history as stored inside its record hash, and as read back.

Each state a run enters is one field of the run's hash ``p:run:<id>`` (store/keys.py):
``h1``, ``h2``, ... in order, with ``hn`` holding how many there are. Keeping the history in
the record, not in a list of its own, saves a Redis key per run (its key-table entry, TTL
entry and list header: about 400 bytes of a no-op run's 2.5 KB, measured with
bench/tasks_alone.py), and a record read is one HGETALL.

An entry is a JSON array, short enough (under the 64 bytes of Redis's default
``hash-max-listpack-value``) that a plain run's record stays in the compact listpack
encoding::

    [name, at_us]                  ["Running", 1796039647242228]
    [name, at_us, message]         a message when there is one
    [name, at_us, message, type]   the type only when the name does not give it

``at_us`` is the time the state was entered, in integer microseconds since the Unix epoch
(UTC), exact to the microsecond. transition.lua and canvas_follow.lua write the same shape
(the latter builds it in Lua). Readers get `tasks_core.records.StateEntry` objects back
(``decode_entry`` gives the dict `StateEntry` validates).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks_core.states import StateName, state_type

__all__ = ["COUNT_FIELD", "decode_entry", "encode_entry", "entries_from_fields",
           "epoch_us", "from_epoch_us", "is_history_field"]

COUNT_FIELD = "hn"
"""The record field holding how many history entries the run has."""

_ENTRY = re.compile(r"h(\d+)\Z")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(at: datetime) -> int:
    """Integer microseconds since the Unix epoch of an aware (or naive: UTC) time.

    >>> epoch_us(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC))
    1000005
    """
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    delta = aware - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(us: int) -> datetime:
    """The UTC time `us` integer microseconds after the Unix epoch (`epoch_us`'s inverse).

    >>> from_epoch_us(1000005).isoformat()
    '1970-01-01T00:00:01.000005+00:00'
    """
    return _EPOCH + timedelta(microseconds=us)


def encode_entry(name: str, kind: str, at: datetime, message: str) -> str:
    """One history entry as stored (see the module docstring).

    >>> encode_entry("Running", "RUNNING", datetime(2026, 1, 1, tzinfo=UTC), "")
    '["Running",1767225600000000]'
    """
    entry: list[Any] = [name, epoch_us(at)]
    derived = kind == state_type(StateName(name)).value
    if message or not derived:
        entry.append(message)
    if not derived:
        entry.append(kind)
    return json.dumps(entry, separators=(",", ":"))


def decode_entry(text: str) -> dict[str, Any]:
    """The fields of `tasks_core.records.StateEntry` from one stored entry (its type is
    filled in by `StateEntry` when not stored). Entries stored as JSON objects (the form
    before this layout) pass through.

    Raises:
        ValueError: the text is not an entry of either form.
    """
    value = json.loads(text)
    if isinstance(value, dict):
        return value
    if not isinstance(value, list) or len(value) < 2 or not isinstance(value[1], int):
        raise ValueError(f"not a state history entry: {text[:80]!r}")
    entry: dict[str, Any] = {"name": value[0],
                             "timestamp": from_epoch_us(value[1])}
    if len(value) > 2 and value[2]:
        entry["message"] = value[2]
    if len(value) > 3:
        entry["type"] = value[3]
    return entry


def is_history_field(name: str) -> bool:
    """Whether a record field belongs to the history (``hn`` or ``h<i>``)."""
    return name == COUNT_FIELD or _ENTRY.match(name) is not None


def entries_from_fields(fields: Mapping[str, str], start: int = 0) -> list[dict[str, Any]]:
    """The history entries in a record's fields, oldest first, from index `start` (0-based),
    decoded (`decode_entry`). Fields of other names are ignored."""
    numbered = sorted((int(m.group(1)), text) for name, text in fields.items()
                      if (m := _ENTRY.match(name)) is not None)
    return [decode_entry(text) for number, text in numbered if number > start]
