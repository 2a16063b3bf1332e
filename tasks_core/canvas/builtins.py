"""Celery's ``task.map(it)``, ``task.starmap(it)`` and ``task.chunks(it, n)``
(canvas#canvas-map, canvas#canvas-chunks), for the Celery facade's task class.

`map` and `starmap` are signatures of one run that calls the task's function over every
item in turn, in that one process (Celery: "one message", not one task per item); its
result is the list of return values. `chunks` splits the items into parts of `n` and is a
group of starmap runs, one per part (its result: a GroupResult of lists).

tasks-core's own `Task.map` stays Prefect's (one run per element, zipped iterables);
`attach(cls)` adds these three to a task class (the facade's), or use the functions.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from itertools import islice
from typing import Any

from tasks_core.canvas.primitives import group
from tasks_core.canvas.signatures import Signature
from tasks_core.errors import ConfigurationError
from tasks_core.registry import resolve
from tasks_core.task import task

__all__ = ["attach", "chunks_signature", "map_signature", "starmap_signature", "xmap",
           "xstarmap"]


def _call(fn: Any, *args: Any) -> Any:
    value = fn(*args)
    return asyncio.run(value) if inspect.iscoroutine(value) else value


@task(name="celery.map")
def xmap(task: str, it: list[Any]) -> list[Any]:
    """Call the task `task` (its key) on each item, in order, here; the list of results."""
    fn = resolve(task).fn
    return [_call(fn, item) for item in it]


@task(name="celery.starmap")
def xstarmap(task: str, it: list[list[Any]]) -> list[Any]:
    """Call the task `task` with each item's elements as its arguments, in order, here."""
    fn = resolve(task).fn
    return [_call(fn, *item) for item in it]


def map_signature(owner: Any, it: Iterable[Any]) -> Signature:
    """``add.map([1, 2])``: one run calling `owner` on each item."""
    return xmap.s(owner.key, list(it))


def starmap_signature(owner: Any, it: Iterable[Iterable[Any]]) -> Signature:
    """``add.starmap([(1, 2), (3, 4)])``: one run calling ``owner(*item)`` on each item."""
    return xstarmap.s(owner.key, [list(item) for item in it])


def chunks_signature(owner: Any, it: Iterable[Iterable[Any]], n: int) -> group:
    """``add.chunks(zip(xs, ys), 10)``: a group of starmap runs over parts of `n` items.

    Raises:
        ConfigurationError: `n` is not a positive integer.
    """
    if not isinstance(n, int) or n < 1:
        raise ConfigurationError(f"chunks: n must be a positive integer, got {n!r}")
    items = iter(it)
    parts = []
    while part := list(islice(items, n)):
        parts.append(starmap_signature(owner, part))
    return group(parts)


def _map(self: Any, it: Iterable[Any]) -> Signature:
    return map_signature(self, it)


def _starmap(self: Any, it: Iterable[Iterable[Any]]) -> Signature:
    return starmap_signature(self, it)


def _chunks(self: Any, it: Iterable[Iterable[Any]], n: int) -> group:
    return chunks_signature(self, it, n)


def attach(cls: type) -> type:
    """Give a task class Celery's `map`, `starmap` and `chunks`; returns the class."""
    _map.__doc__ = map_signature.__doc__
    _starmap.__doc__ = starmap_signature.__doc__
    _chunks.__doc__ = chunks_signature.__doc__
    cls.map = _map  # type: ignore[attr-defined]
    cls.starmap = _starmap  # type: ignore[attr-defined]
    cls.chunks = _chunks  # type: ignore[attr-defined]
    return cls
