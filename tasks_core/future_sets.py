"""Many futures at once, as ``prefect.futures`` spells it (docs.prefect.io/v3/api-ref/
python/prefect-futures): `FutureList` (what `.map()` returns: a list with ``.wait()`` and
``.result()``), `wait(futures, timeout=)` -> ``(done, not_done)`` and
`as_completed(futures, timeout=)`.

Works on both kinds of future: runs on Celery queues (`TaskFuture`: their states are read
from Redis in one round trip per poll) and task runs in this process's threads
(`InProcessFuture`). Polls every 5 ms while runs finish, backing off to 50 ms.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple, TypeVar

from tasks_core.errors import RunTimeout
from tasks_core.process_runtime import get_runtime
from tasks_core.states import is_terminal

__all__ = ["DoneAndNotDoneFutures", "FutureList", "PrefectFutureList", "as_completed",
           "wait"]

F = TypeVar("F")


class DoneAndNotDoneFutures(NamedTuple):
    """What `wait` returns: the futures whose runs ended, and the others."""

    done: set[Any]
    not_done: set[Any]


def _finished(futures: list[Any]) -> list[Any]:
    """Those of `futures` whose runs have ended (one Redis round trip for queued runs)."""
    queued = [f for f in futures if not hasattr(f, "done")]
    states = get_runtime().store.states_of([f.id for f in queued]) if queued else []
    ended = {id(f) for f, s in zip(queued, states, strict=True) if s and is_terminal(s)}
    return [f for f in futures if (f.done() if hasattr(f, "done") else id(f) in ended)]


def _poll(futures: Iterable[F], timeout: float | None) -> Iterator[F]:
    """Yield each future as its run ends; stop (without raising) at the timeout."""
    todo = list(futures)
    deadline = None if timeout is None else time.monotonic() + timeout
    pause = 0.005
    while todo:
        ended = _finished(todo)
        if ended:
            gone = {id(f) for f in ended}
            todo = [f for f in todo if id(f) not in gone]
            yield from ended
            pause = 0.005
            continue
        if deadline is not None and time.monotonic() >= deadline:
            return
        pause = min(pause * 2, 0.05)
        time.sleep(pause if deadline is None else
                   max(0.0, min(pause, deadline - time.monotonic())))


def wait(futures: Iterable[F], timeout: float | None = None) -> DoneAndNotDoneFutures:
    """Wait until every run has ended or `timeout` seconds pass (None: no limit).

    Returns:
        ``(done, not_done)``: two sets of futures, as Prefect's ``wait``. Never raises for
        a timeout (check ``not_done``) nor for a failed run (its future is done).
    """
    items = list(futures)
    done = set(_poll(items, timeout))
    return DoneAndNotDoneFutures(done, {f for f in items if f not in done})


def as_completed(futures: Iterable[F], timeout: float | None = None) -> Iterator[F]:
    """Yield the futures as their runs end (first ended first), as Prefect's
    ``as_completed``.

    Raises:
        RunTimeout: `timeout` seconds passed before all ended (a builtin TimeoutError, as
            Prefect raises).
    """
    items = list(futures)
    seen = 0
    for future in _poll(items, timeout):
        seen += 1
        yield future
    if seen < len(items):
        raise RunTimeout(f"{len(items) - seen} of {len(items)} runs not finished after "
                         f"{timeout}s")


class FutureList(list[Any]):
    """The futures `.map()` returns, in input order (Prefect's ``PrefectFutureList``): a
    list, plus ``.wait()`` and ``.result()`` for all of them."""

    def wait(self, timeout: float | None = None) -> None:
        """Block until every run has ended or `timeout` seconds pass (no error then)."""
        wait(self, timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[Any]:
        """The runs' values, in order.

        Raises:
            RunTimeout: not all ended within `timeout` seconds.
            the first failed run's exception, unless `raise_on_failure` is False (then the
            exceptions are in the list in place of values).
        """
        _, not_done = wait(self, timeout)
        if not_done:
            raise RunTimeout(f"{len(not_done)} of {len(self)} mapped runs not finished "
                             f"after {timeout}s")
        return [f.result(raise_on_failure=raise_on_failure) for f in self]


PrefectFutureList = FutureList
"""Prefect's name of `FutureList`."""
