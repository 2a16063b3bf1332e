"""Results of canvases: a step's result with `.parent`, `ResultSet` and `GroupResult`
(Celery's `celery.result.ResultSet` / `GroupResult`, canvas#group-results).

Waiting reads the ledger (each run's state), so it works from any process, by id: a step's
`get` is woken by the run's done channel; `ResultSet.join` of stored results polls their
states together, oldest first (`tasks_core.poll_window`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from tasks_core.async_result import AsyncResult, assert_can_wait
from tasks_core.errors import RunNotFound, RunTimeout
from tasks_core.futures import TaskFuture, run_exception
from tasks_core.poll_window import MAX_WINDOW, MIN_WINDOW, next_window
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName, is_terminal

__all__ = ["CanvasResult", "GroupResult", "ResultSet"]

_OK = frozenset({StateName.COMPLETED, StateName.CACHED})


class CanvasResult(AsyncResult):
    """The result of one run of a canvas (Celery's `AsyncResult`: ``.state`` a Celery state
    name, ``.result`` a property); `.parent` is the result of the step before it (a chain's
    previous step, a chord's header as a GroupResult), None for a first step."""

    __slots__ = ("parent",)

    def __init__(self, run_id: str, name: str = "", return_type: Any = Any,
                 parent: Any = None) -> None:
        super().__init__(run_id, task_name=name)
        self.return_type = return_type
        self.parent = parent

    def get(self, timeout: float | None = None, propagate: bool = True,
            interval: float = 0.5, follow_parents: bool = True, *,
            disable_sync_subtasks: bool = True, **_: Any) -> Any:
        """Wait and return the value. When the run did not complete and `propagate`, the
        error raised is the earliest failed step's before it (Celery's `get` re-raises a
        parent's error first: a chord whose header task raised ValueError raises that
        ValueError, though the callback itself holds a ChordError); else its own."""
        value = super().get(timeout, propagate=False,
                            disable_sync_subtasks=disable_sync_subtasks)
        if not propagate or not isinstance(value, BaseException) or \
                _states([self])[0] in _OK:
            return value
        if follow_parents:
            _raise_parent_error(self)
        raise value


def _raise_parent_error(result: CanvasResult) -> None:
    """Raise the error of the earliest step before `result` that did not complete."""
    lineage = []
    node = result.parent
    while node is not None:
        lineage.append(node)
        node = getattr(node, "parent", None)
    for node in reversed(lineage):
        for leaf in node._leaves() if isinstance(node, ResultSet) else [node]:
            state = _states([leaf])[0]
            if state is not None and is_terminal(state) and state not in _OK:
                raise run_exception(leaf.record())


def _states(results: list[Any]) -> list[str | None]:
    return get_runtime().store.states_of([r.id for r in results])


def _join_stored(results: list[Any], deadline: float | None, timeout: float | None,
                 propagate: bool, callback: Any) -> list[Any]:
    """`ResultSet.join` of results stored in Redis, in order, as Celery's ``join``: each
    value as soon as it and those before it have ended (the first failure raised there,
    with `propagate`, without waiting for the later ones).

    Each poll reads the outcomes (state and value) of the oldest results not taken yet, as
    many as `next_window` says (16 to 256), in one round trip, and takes the leading ended
    ones: a group of thousands costs its caller one read per poll, where a ``get`` per
    result was a pub/sub wait and several reads each.
    """
    store = get_runtime().store
    values: list[Any] = []
    taken, size, pause = 0, MIN_WINDOW, 0.005
    while taken < len(results):
        head = results[taken:taken + size]
        outcomes = store.outcomes_of([r.id for r in head])  # states and values at once
        ready = 0
        for r, (state, _, _) in zip(head, outcomes, strict=True):  # the leading ended ones
            if state is None and type(r) is TaskFuture:  # (an AsyncResult waits for it)
                raise RunNotFound(f"run {r.id!r} not found (it may have expired)")
            if state is None or not is_terminal(state):
                break
            ready += 1
        if ready:
            for r, outcome in zip(head[:ready], outcomes[:ready], strict=True):
                value = TaskFuture.outcome_from(r, *outcome, raise_on_failure=False)
                if propagate and isinstance(value, BaseException) and outcome[0] not in _OK:
                    if isinstance(r, CanvasResult):  # as its `get`: a parent's error first
                        _raise_parent_error(r)
                    raise value
                if callback is not None:
                    callback(r.id, value)
                else:
                    values.append(value)
            taken += ready
        if taken == len(results):
            break
        if deadline is not None and time.monotonic() >= deadline:
            raise RunTimeout(f"{len(results) - taken} of {len(results)} results not ready "
                             f"after {timeout}s (the first: {results[taken].id})")
        size = next_window(size, len(head), ready, MAX_WINDOW)
        if ready == len(head):
            continue
        pause = 0.005 if ready else min(pause * 2, 0.05)
        time.sleep(pause if deadline is None else
                   max(0.0, min(pause, deadline - time.monotonic())))
    return values


_STORED = (AsyncResult, TaskFuture, CanvasResult)
"""The result types `ResultSet.join` polls together (their value is the stored one)."""


class ResultSet:
    """Many results handled as one: ``ResultSet([r1, r2]).get(timeout=10)``.

    Args:
        results: result handles (`TaskFuture`s, or GroupResults for nested groups).
    """

    def __init__(self, results: Iterable[Any], **_: Any) -> None:
        self.results: list[Any] = list(results)

    def add(self, result: Any) -> None:
        """Add a result (once)."""
        if result not in self.results:
            self.results.append(result)

    def _leaves(self) -> list[Any]:
        leaves: list[Any] = []
        for r in self.results:
            leaves.extend(r._leaves() if isinstance(r, ResultSet) else [r])
        return leaves

    def ready(self) -> bool:
        """Whether every run has ended (one round trip)."""
        return all(s is not None and is_terminal(s) for s in _states(self._leaves()))

    def waiting(self) -> bool:
        """Whether some run has not ended yet."""
        return not self.ready()

    def successful(self) -> bool:
        """Whether every run completed."""
        return all(s in _OK for s in _states(self._leaves()))

    def failed(self) -> bool:
        """Whether some run ended without completing (Failed, Crashed, TimedOut, Cancelled)."""
        return any(s is not None and is_terminal(s) and s not in _OK
                   for s in _states(self._leaves()))

    def completed_count(self) -> int:
        """How many runs completed (Celery counts the successful ones)."""
        return sum(1 for s in _states(self._leaves()) if s in _OK)

    def join(self, timeout: float | None = None, propagate: bool = True,
             interval: float = 0.5, callback: Any = None, disable_sync_subtasks: bool = True,
             **_: Any) -> list[Any]:
        """Wait for every result and return their values in order; the first failure is
        raised (`propagate=False`: returned in its place). With a `callback`, it is called
        with ``(task_id, value)`` for each, in order, and nothing is returned (an empty
        list), as in Celery; RunNotFound for a `TaskFuture` whose run does not exist.
        `timeout`: seconds for all of them; RunTimeout (a TimeoutError) when it passes.
        `interval` is accepted for Celery's signature. Results of runs on queues are
        polled together, oldest first (`_join_stored`); others (eager results, nested
        groups) are waited for one by one. Inside a task on a worker it raises Celery's
        RuntimeError unless `disable_sync_subtasks` is False (`assert_can_wait`)."""
        assert_can_wait(disable_sync_subtasks)
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.results and all(type(r) in _STORED for r in self.results):
            return _join_stored(self.results, deadline, timeout, propagate, callback)
        values = []
        for r in self.results:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            more = {"disable_sync_subtasks": False} if isinstance(r, AsyncResult) else {}
            value = r.get(timeout=left, propagate=propagate, **more)  # checked above
            if callback is not None:
                callback(r.id, value)
            else:
                values.append(value)
        return values

    def get(self, timeout: float | None = None, propagate: bool = True,
            **kwargs: Any) -> list[Any]:
        """`join`."""
        return self.join(timeout=timeout, propagate=propagate, **kwargs)

    join_native = join

    def revoke(self, terminate: bool = False, **_: Any) -> None:
        """Cancel every run (`TaskFuture.revoke`)."""
        for r in self.results:
            r.revoke(terminate=terminate)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, index: int) -> Any:
        return self.results[index]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: [{', '.join(r.id for r in self.results)}]>"


class GroupResult(ResultSet):
    """The result of a group: its runs' results in order, under a group id.

    `save()` keeps the ids in Redis (the run TTL) and `GroupResult.restore(id)` reads them
    back from any process, as Celery's result backend does.
    """

    def __init__(self, id: str | None = None, results: Iterable[Any] = (),
                 parent: Any = None, **_: Any) -> None:
        super().__init__(results)
        self.id = id or str(uuid.uuid4())
        self.parent = parent

    @property
    def children(self) -> list[Any]:
        return self.results

    def save(self, backend: Any = None) -> GroupResult:
        """Store the member ids under `id` (for `restore`); returns self."""
        from tasks_core.store.canvas import save_group

        save_group(get_runtime().store, self.id, [r.id for r in self._leaves()])
        return self

    def delete(self, backend: Any = None) -> None:
        """Forget the saved group."""
        from tasks_core.store.canvas import delete_group

        delete_group(get_runtime().store, self.id)

    @classmethod
    def restore(cls, id: str, backend: Any = None, app: Any = None) -> GroupResult | None:
        """The group saved under `id`, or None (as Celery) when there is none."""
        from tasks_core.store.canvas import restore_group

        ids = restore_group(get_runtime().store, id)
        if ids is None:
            return None
        return cls(id, [CanvasResult(run_id) for run_id in ids])

    def __repr__(self) -> str:
        return f"<GroupResult: {self.id} [{', '.join(r.id for r in self.results)}]>"
