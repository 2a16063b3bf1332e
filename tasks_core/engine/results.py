"""Run results <-> JSON: encode for storage, render for in-process runs, decode with the
return annotation.

Encoding is `codec.to_json` (pydantic's JSON mode) after `tagged.tag_values` (a date,
datetime, time, UUID or Decimal in plain containers is kept in kombu's tagged form and comes
back as its own type, as Celery's JSON does), so a task may return datetimes, UUIDs,
Decimals, enums, pydantic models, dataclasses, sets and tuples; decoding validates the JSON
against the function's return annotation (a `-> datetime` task's stored result comes back
a `datetime`).
"""

from __future__ import annotations

import functools
import inspect
import json
from pathlib import Path
from typing import Any

import pydantic

from tasks_core.engine.codec import safe_text, to_json, type_name
from tasks_core.engine.tagged import loads_tagged, tag_values
from tasks_core.errors import ResultError

__all__ = ["MARKER", "NOT_PERSISTED", "decode_result", "encode_result", "follow",
           "render_result"]

MARKER = "__tasks_core_result__"
"""The key of the markers `engine.result_files` stores in place of a result."""
NOT_PERSISTED = json.dumps({MARKER: "not-persisted"})


def _encode(value: Any, max_bytes: int) -> str:
    """The JSON text; ResultError saying why not, without naming an owner."""
    try:
        text = to_json(tag_values(value))  # kombu's tagged dates, UUIDs, Decimals
    except ValueError as exc:
        raise ResultError(safe_text(
            f"{type_name(value)} has no JSON form ({exc}); return JSON-able data (str, int, "
            "float, bool, None, list, dict, datetime, UUID, Decimal, enum, pydantic model, "
            "dataclass) or store it elsewhere and return a reference")) from None
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise ResultError(
            f"{type_name(value)} is {size} bytes of JSON, over the limit of {max_bytes} "
            "(TASKS_CORE_RESULT_MAX_BYTES); store large data elsewhere and return a reference")
    return text


def encode_result(owner: str, value: Any, max_bytes: int) -> str:
    """The return value as JSON text, for storage (a worker's run, a cache entry).

    Args:
        owner: how the error names the run's function, e.g. `"task 'add'"`.
        value: what it returned.
        max_bytes: the limit on the UTF-8 size of the text (TASKS_CORE_RESULT_MAX_BYTES).

    Raises:
        ResultError: the value has no JSON form (its type and why), or its JSON is over
            `max_bytes` (the size, the limit and the setting). Never a RecursionError.
    """
    try:
        return _encode(value, max_bytes)
    except ResultError as exc:
        raise ResultError(f"result of {owner}: {exc}") from None


def render_result(value: Any, max_bytes: int) -> tuple[str | None, str]:
    """The return value of an in-process run, for its record. Never raises.

    Returns:
        `(json_text, "")` when it has a JSON form within `max_bytes`, else
        `(None, "result not stored: <why>")`; the value itself stays with the caller.
    """
    try:
        return _encode(value, max_bytes), ""
    except ResultError as exc:
        return None, f"result not stored: {exc}"
    except Exception as exc:  # e.g. a failing __str__ inside an error message
        return None, f"result not stored: {type(exc).__name__}"


def decode_result(text: str, annotation: Any = Any) -> Any:
    """A stored JSON result back to a value.

    Args:
        text: the stored JSON text.
        annotation: the function's return annotation; with one (not `Any`, not empty) the
            JSON is validated by a pydantic `TypeAdapter` in python (lax) mode, so a
            `-> datetime` result comes back a `datetime` and `-> Model` a `Model`.

    Returns:
        The validated value, or the plain JSON value when validation fails (the stored text
        is the truth; a changed annotation must not make an old result unreadable).

    Raises:
        ResultError: `text` is not JSON; or it marks a result that was not persisted or
            whose file (`result_storage`) cannot be read (`engine.result_files`).
    """
    try:
        value = loads_tagged(text)
        if isinstance(value, dict):  # a result in a file, or none (engine.result_files)
            found, stored = follow(value)
            if found:
                value = loads_tagged(stored)
    except (ValueError, RecursionError) as exc:
        raise ResultError(f"stored result is not JSON ({safe_text(str(exc))[:200]})") from None
    if annotation is Any or annotation is inspect.Signature.empty:
        return value
    try:
        return _adapter(annotation).validate_python(value)
    except Exception:  # a validation error, or an annotation pydantic cannot use
        return value


def _adapter(annotation: Any) -> pydantic.TypeAdapter[Any]:
    try:
        return _cached_adapter(annotation)
    except TypeError:  # an unhashable annotation
        return pydantic.TypeAdapter(annotation)


@functools.lru_cache(maxsize=256)
def _cached_adapter(annotation: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(annotation)


def follow(value: Any) -> tuple[bool, Any]:
    """``(True, text)`` when `value` (a decoded stored result) is a file marker: the file's
    JSON text; ``(False, value)`` when it is no marker.

    Raises:
        ResultError: a not-persisted marker, or a file that is gone or unreadable.
    """
    if not isinstance(value, dict) or MARKER not in value or len(value) > 3:
        return False, value
    kind = value[MARKER]
    if kind == "not-persisted":
        raise ResultError("the run's result was not persisted (persist_result=False); "
                          "only the process that ran it got its value")
    path = str(value.get("path", ""))
    try:
        return True, Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultError(f"result file {path!r} (result_storage) cannot be read: {exc}; "
                          "every process that reads results needs the same folder") from None
