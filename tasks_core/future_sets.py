"""Many futures at once, as ``prefect.futures`` spells it (docs.prefect.io/v3/api-ref/
python/prefect-futures): `FutureList` (what `.map()` returns: a list with ``.wait()`` and
``.result()``), `wait(futures, timeout=)` -> ``(done, not_done)`` and
`as_completed(futures, timeout=)`.

Works on both kinds of future: runs on Celery queues (`TaskFuture`: their states are read
from Redis in one round trip per poll) and task runs in this process's threads
(`InProcessFuture`). Polls every 5 ms while runs finish, backing off to 50 ms. `wait` (and
so `FutureList.wait()` and ``.result()``) reads only the oldest runs not yet ended, about
what finishes between two polls (`tasks_core.poll_window`'s window rule); `as_completed`
reads all that are left at each poll, so that it yields each run as it ends wherever it is
in the list, and spaces its polls so that reading them takes at most a fifth of a core
(`POLL_SHARE`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from tasks_core.errors import RunTimeout
from tasks_core.poll_window import poll_oldest
from tasks_core.process_runtime import get_runtime
from tasks_core.states import is_terminal

__all__ = ["DoneAndNotDoneFutures", "FutureList", "PrefectFutureList", "as_completed",
           "gather", "wait"]

F = TypeVar("F")
OUTCOME_CHUNK = 500
"""Most runs whose outcomes `FutureList.result` reads in one round trip."""


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


POLL_SHARE = 0.2
"""The most of one core `as_completed` spends reading states: after a poll that took d
seconds of this thread's CPU it waits at least d * (1 / POLL_SHARE - 1) before the next
(reading 10,000 states took 110 ms of CPU on a busy 2-vCPU machine, 256 took 3.5 ms).
Waiting for Redis's replies is not counted, so a distant Redis adds no delay."""


def _poll(futures: Iterable[F], timeout: float | None) -> Iterator[F]:
    """Yield each future as its run ends; stop (without raising) at the timeout.

    Every poll reads all the futures left, so that a run is yielded when it ends wherever
    it is in the list. After a poll where runs ended the next follows at once, and while
    none end after 10 ms, doubling to 50 ms; never sooner than `POLL_SHARE` allows.
    """
    todo = list(futures)
    deadline = None if timeout is None else time.monotonic() + timeout
    pause = 0.005
    while todo:
        started = time.thread_time()
        ended = _finished(todo)
        floor = (time.thread_time() - started) * (1 / POLL_SHARE - 1)
        if ended:
            gone = {id(f) for f in ended}
            todo = [f for f in todo if id(f) not in gone]
            yield from ended
            pause = 0.005
            if not todo:
                return
        elif deadline is None or time.monotonic() < deadline:
            pause = min(pause * 2, 0.05)
        else:
            return
        wait_s = max(floor, pause if not ended else 0.0)
        if deadline is not None:
            wait_s = max(0.0, min(wait_s, deadline - time.monotonic()))
        time.sleep(wait_s)


def _wait_ended(items: list[Any], timeout: float | None) -> set[int]:
    """The ids (``id()``) of `items` seen ended, polling until all have or `timeout` passes.

    Each poll reads the oldest of them not seen ended, as many as `next_window` says
    (about twice what ended between the last two polls, 16 to 256), so waiting on a
    10,000-run `.map()` costs about what finishes, not what is left; when all it read had
    ended, the next poll follows at once, else after 5 ms (doubling to 50 ms while none
    ends).
    """
    def ended(head: list[Any]) -> list[bool]:
        ids = {id(f) for f in _finished(head)}
        return [id(f) in ids for f in head]

    deadline = None if timeout is None else time.monotonic() + timeout
    left = {id(f) for f in poll_oldest(items, ended, deadline=deadline, pause_s=0.005)}
    return {id(f) for f in items if id(f) not in left}


def wait(futures: Iterable[F], timeout: float | None = None) -> DoneAndNotDoneFutures:
    """Wait until every run has ended or `timeout` seconds pass (None: no limit).

    Polls the oldest runs not yet seen ended (`_wait_ended`); at the timeout, the states
    of all the others are read once, so `done` holds every run that had ended by then.

    Returns:
        ``(done, not_done)``: two sets of futures, as Prefect's ``wait``. Never raises for
        a timeout (check ``not_done``) nor for a failed run (its future is done).
    """
    items = list(futures)
    seen = _wait_ended(items, timeout)
    rest = [f for f in items if id(f) not in seen]
    if rest:  # the timeout passed: what the window did not read may have ended too
        seen |= {id(f) for f in _finished(rest)}
    done = {f for f in items if id(f) in seen}
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
        """The runs' values, in order (`gather`: one wait for all, then their outcomes read
        together).

        Raises:
            RunTimeout: not all ended within `timeout` seconds.
            the first failed run's exception, unless `raise_on_failure` is False (then the
            exceptions are in the list in place of values).
        """
        return gather(self, timeout, raise_on_failure, noun="mapped runs")


def gather(futures: Sequence[Any], timeout: float | None, raise_on_failure: bool,
           noun: str = "runs") -> list[Any]:
    """The values of `futures`, in order, once all have ended (`FutureList.result`):
    `wait`, then the outcomes of the runs on queues read together, `OUTCOME_CHUNK` runs per
    round trip, where a `TaskFuture.result` each would be a wait
    and a read per run (about 0.6 ms of the caller's CPU per run, measured on 5,000).

    Raises:
        RunTimeout: not all ended within `timeout` seconds ("<k> of <n> <noun> not
            finished after <timeout>s").
        the first failed run's exception, in order, unless `raise_on_failure` is False
        (then the exceptions are in the list in place of values).
    """
    _, not_done = wait(futures, timeout)
    if not_done:
        raise RunTimeout(f"{len(not_done)} of {len(futures)} {noun} not finished after "
                         f"{timeout}s")
    # runs on queues whose value is the stored one (`TaskFuture.stored_outcome`; an eager
    # result holds its own, an in-process future its thread's)
    queued = [f for f in futures if getattr(f, "stored_outcome", False)]
    read: dict[int, tuple[str | None, bool, str | None]] = {}
    if queued:
        store = get_runtime().store
        for start in range(0, len(queued), OUTCOME_CHUNK):  # all have ended: no waits
            chunk = queued[start:start + OUTCOME_CHUNK]
            outcomes = store.outcomes_of([f.id for f in chunk])
            read.update((id(f), outcome) for f, outcome in zip(chunk, outcomes, strict=True))
    return [f.outcome_from(*read[id(f)], raise_on_failure=raise_on_failure)
            if id(f) in read else f.result(raise_on_failure=raise_on_failure)
            for f in futures]


PrefectFutureList = FutureList
"""Prefect's name of `FutureList`."""
