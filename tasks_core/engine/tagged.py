"""Values Celery's JSON carries as their own types: date, datetime, time, UUID, Decimal.

kombu's JSON serializer (which Celery uses for task arguments and results) writes these as
``{"__type__": "<name>", "__value__": ...}`` and reads them back as the same types
(`kombu.utils.json`). tasks-core does the same for the arguments of a run sent to a queue
(`Task.encode_parameters`) and for stored results (`engine.results`), so a task called with
``.delay(date(2024, 1, 2))`` gets a `date` even without a type hint, and its `Decimal`
result comes back a `Decimal`. The tagged form is kombu's, produced by kombu's own encoder;
reading accepts only exactly those two keys with one of these five type names, so no other
JSON object is touched. Never pickle.

Values inside pydantic models and dataclasses keep their JSON form (ISO strings), which
the model's own field types read back.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from kombu.utils.json import JSONEncoder, object_hook

__all__ = ["TAGGED_TYPES", "loads_tagged", "tag_values", "untag"]

TAGGED_TYPES = (datetime, date, time, UUID, Decimal)
"""The types kombu's JSON tags (datetime before date: it is one)."""

_NAMES = frozenset({"datetime", "date", "time", "uuid", "decimal"})
_KEYS = frozenset({"__type__", "__value__"})
_ENCODER = JSONEncoder()


def _tag(value: Any) -> Any:
    if isinstance(value, TAGGED_TYPES):
        return _ENCODER.default(value)  # type: ignore[no-untyped-call]
    if type(value) is dict:
        changed = {k: _tag(v) for k, v in value.items()}
        return changed if any(changed[k] is not value[k] for k in value) else value
    if type(value) in (list, tuple):
        items = [_tag(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def tag_values(value: Any) -> Any:
    """`value` with every date, datetime, time, UUID and Decimal inside plain dicts, lists
    and tuples replaced by kombu's tagged form; the same object when there is none (or when
    it is nested too deep to walk: the depth check refuses it afterwards)."""
    try:
        return _tag(value)
    except RecursionError:
        return value


def untag(obj: dict[str, Any]) -> Any:
    """A `json.loads` object hook: kombu's tagged form of the five types back to the value;
    any other object unchanged."""
    if obj.keys() == _KEYS and obj["__type__"] in _NAMES:
        try:
            return object_hook(obj)
        except (ValueError, TypeError, KeyError, ArithmeticError):
            return obj  # an object of the user's that only looks tagged
    return obj


_PLAIN = json.JSONDecoder()
_UNTAGGING = json.JSONDecoder(object_hook=untag)


def loads_tagged(text: str | bytes | bytearray) -> Any:
    """`json.loads` with `untag` (text with neither ``__type__`` nor an escape in it has
    no tagged value: read plainly, which is quicker)."""
    if not isinstance(text, str):
        return json.loads(text, object_hook=untag)
    plain = "__type__" not in text and "\\u" not in text
    return (_PLAIN if plain else _UNTAGGING).decode(text)
