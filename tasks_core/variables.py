"""Variables: named JSON values shared by every process on the same Redis, as Prefect's.

    from tasks_core.variables import Variable

    Variable.set("answer", {"x": 42})             # refused if "answer" exists
    Variable.set("answer", 43, overwrite=True)
    Variable.get("answer")                         # 43
    Variable.get("missing", default="n/a")         # "n/a"
    Variable.unset("answer")                       # True (False when there was none)

Semantics follow Prefect 3's documented ones (docs.prefect.io/v3, "Variables", and
``prefect.variables.Variable``): values are JSON (str, int, float, bool, None, lists and
dicts of them), at most `VALUE_MAX_CHARS` characters of JSON; names are lowercase letters,
digits, underscores (and dashes), at most `NAME_MAX_CHARS` characters; `set` on an existing
name raises unless ``overwrite=True``. `aset`, `aget` and `aunset` are the async
spellings; and, as in Prefect 3 (its ``async_dispatch``), `set`, `get` and `unset` called
directly in an ``async def`` body return the async spelling's coroutine, so
``await Variable.get("x")`` works there (a sync function, such as a sync task an async flow
calls, gets the plain call); ``_sync=True`` forces the plain call.

Records live in one Redis hash (`tasks_core.store.variables`); every process that shares
the Redis and key prefix sees the same variables.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import sys
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from tasks_core.errors import NotFoundError, ValidationError
from tasks_core.store.variables import VariableStore

__all__ = ["NAME_MAX_CHARS", "VALUE_MAX_CHARS", "Variable", "VariableExists",
           "VariableNotFound", "check_name", "encode_value", "list_variables",
           "read_variable"]

NAME_MAX_CHARS = 255
"""The longest variable name (Prefect's limit)."""

VALUE_MAX_CHARS = 5000
"""The longest value, in characters of its JSON text (Prefect's limit)."""

_NAME = re.compile(r"^[a-z0-9_-]+$")


class VariableExists(ValidationError):
    """`Variable.set` on a name that exists, without ``overwrite=True`` (a ValueError, as
    Prefect's)."""


class VariableNotFound(NotFoundError):
    """A variable the CLI or the API was asked for does not exist."""


class Variable(BaseModel):
    """A stored variable.

    Attributes:
        name: its name (lowercase letters, digits, ``_`` and ``-``; at most 255).
        value: its JSON value.
        tags: free labels, shown by ``tasks-core variable ls``.
        created: when it was first set (UTC).
        updated: when it was last set (UTC).
    """

    name: str
    value: Any = None
    tags: list[str] = Field(default_factory=list)
    created: datetime | None = None
    updated: datetime | None = None

    @classmethod
    def set(cls, name: str, value: Any, tags: list[str] | None = None,
            overwrite: bool = False, *, _sync: bool | None = None) -> Any:
        """Store `value` under `name`; returns the stored variable (in an async context,
        a coroutine of `aset`: see the module).

        Raises:
            ValidationError: a bad name, a value that is not JSON or over 5000 characters
                of JSON.
            VariableExists: the name exists and `overwrite` is False (Prefect: "Variable
                'x' already exists. Use `overwrite=True` to update it.").
        """
        if _in_async_context(_sync):
            return cls.aset(name, value, tags, overwrite)
        return cls._set(name, value, tags, overwrite)

    @classmethod
    def _set(cls, name: str, value: Any, tags: list[str] | None,
             overwrite: bool) -> Variable:
        check_name(name)
        encode_value(value)
        store = _store()
        now = datetime.now(UTC)
        record = cls(name=name, value=value, tags=[str(t) for t in tags or []], created=now,
                     updated=now)
        if overwrite:
            old = store.get(name)
            if old is not None:
                record.created = cls.model_validate_json(old).created
            store.put(name, record.model_dump_json())
        elif not store.create(name, record.model_dump_json()):
            raise VariableExists(f"variable {name!r} already exists; use overwrite=True "
                                 "(CLI: --overwrite) to update it")
        return record

    @classmethod
    def get(cls, name: str, default: Any = None, *, _sync: bool | None = None) -> Any:
        """The value of `name`, or `default` when there is no such variable (in an async
        context, a coroutine of `aget`)."""
        if _in_async_context(_sync):
            return cls.aget(name, default)
        found = read_variable(name)
        return default if found is None else found.value

    @classmethod
    def unset(cls, name: str, *, _sync: bool | None = None) -> Any:
        """Delete `name`; True when it existed, False when there was none (in an async
        context, a coroutine of `aunset`)."""
        if _in_async_context(_sync):
            return cls.aunset(name)
        return _store().delete(name)

    @classmethod
    async def aset(cls, name: str, value: Any, tags: list[str] | None = None,
                   overwrite: bool = False) -> Variable:
        """`set`, awaited (runs in a thread: Redis calls block)."""
        return await asyncio.to_thread(cls._set, name, value, tags, overwrite)

    @classmethod
    async def aget(cls, name: str, default: Any = None) -> Any:
        """`get`, awaited."""
        return await asyncio.to_thread(cls.get, name, default, _sync=True)

    @classmethod
    async def aunset(cls, name: str) -> bool:
        """`unset`, awaited."""
        return await asyncio.to_thread(cls.unset, name, _sync=True)


def _in_async_context(sync: bool | None) -> bool:
    """Whether a call should return the async spelling's coroutine: it was made directly
    in an ``async def`` body (the caller of `get`/`set`/`unset` is a coroutine) and the
    caller did not pass ``_sync``. A sync function (a sync task called by an async flow)
    gets a plain call, as Prefect decides by the run's own sync-ness."""
    if sync is not None:
        return not sync
    caller = sys._getframe(2)
    return bool(caller.f_code.co_flags & (inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR))


def check_name(name: str) -> str:
    """`name` when it is a valid variable name; else ValidationError naming the rule."""
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > NAME_MAX_CHARS:
        raise ValidationError(f"variable name {name!r} is not valid: use 1 to "
                              f"{NAME_MAX_CHARS} lowercase letters, digits, '_' or '-'")
    return name


def encode_value(value: Any) -> str:
    """The JSON text of `value`; ValidationError when it is not JSON or is longer than
    `VALUE_MAX_CHARS` characters (pickle and Python objects are never stored)."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"variable value must be JSON (str, int, float, bool, None, "
                              f"list, dict): {exc}") from None
    if len(text) > VALUE_MAX_CHARS:
        raise ValidationError(f"variable value is {len(text)} characters of JSON, over the "
                              f"limit of {VALUE_MAX_CHARS}")
    return text


def read_variable(name: str) -> Variable | None:
    """The variable `name`, or None (a name that cannot exist is None too)."""
    text = _store().get(name)
    return None if text is None else Variable.model_validate_json(text)


def list_variables() -> list[Variable]:
    """Every variable, by name."""
    stored = _store().all()
    return [Variable.model_validate_json(stored[name]) for name in sorted(stored)]


def _store() -> VariableStore:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().variables
