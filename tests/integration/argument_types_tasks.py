"""Tasks of the argument-type tests: they report the types they were called with."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tasks_core import task


@task(name="proj.types_of")
def types_of(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The type name of each argument, and the arguments themselves back (a result)."""
    values = [*args, *kwargs.values()]
    return {"types": [type(v).__name__ for v in values], "values": values}


@task
def next_day(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


@task
def nested(payload):  # type: ignore[no-untyped-def]  # no hints: the types come from JSON
    return {"when": payload["when"], "kind": type(payload["when"]).__name__,
            "items": [type(i).__name__ for i in payload["items"]]}


@task
def stamp() -> datetime:
    return datetime(2024, 5, 6, 7, 8, 9)
