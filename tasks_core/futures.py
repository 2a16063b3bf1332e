"""Futures of runs sent to Celery queues: `.id`, `.state`, `.wait()`, `.result()`, `.get()`;
and Prefect's ``prefect.futures`` names for many futures: `wait`, `as_completed`,
`PrefectFutureList` (`tasks_core.future_sets`).

Waiting is pushed: a terminal transition publishes on the run's done channel, which `wait`
listens on, so a caller sees the end of a run within milliseconds of its last state write.
"""

from __future__ import annotations

import builtins
import importlib
import time
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from tasks_core.engine.cancel import cancel_run
from tasks_core.engine.results import decode_result
from tasks_core.errors import (
    CancelledRun,
    CrashedRun,
    FailedRun,
    ResultError,
    RunError,
    RunNotFound,
    RunTimeout,
    TimedOutRun,
)
from tasks_core.future_sets import FutureList, PrefectFutureList, as_completed, wait
from tasks_core.poll_window import MAX_WINDOW, poll_oldest
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import State, StateName, is_terminal

__all__ = ["FutureList", "PrefectFutureList", "TaskFuture", "as_completed", "state_of", "wait",
           "wait_all"]

R = TypeVar("R")

_RUN_ERRORS: dict[str, type[RunError]] = {
    StateName.CRASHED: CrashedRun,
    StateName.CANCELLED: CancelledRun,
    StateName.TIMED_OUT: TimedOutRun,
}


def _exception_class(type_name: str) -> type[BaseException] | None:
    """The exception class named by a recorded error type, if it can be found safely."""
    module_name, _, qualname = type_name.rpartition(".")
    try:
        owner: Any = builtins if not module_name else importlib.import_module(module_name)
        cls = getattr(owner, qualname)
    except (ImportError, AttributeError, ValueError):
        return None
    return cls if isinstance(cls, type) and issubclass(cls, Exception) else None


def run_exception(record: RunRecord) -> BaseException:
    """The exception to raise for a run that did not complete.

    A Failed run re-raises its task's exception type with the original message when that
    type can be imported and built from a message (as Celery does); otherwise FailedRun.
    """
    error = record.error
    detail = f"{error.type}: {error.message}" if error else record.state_message or record.state
    message = f"run {record.id} ({record.name}) ended {record.state.value}: {detail}"
    if record.state in _RUN_ERRORS:
        return _RUN_ERRORS[record.state](message, run_id=record.id, state=record.state,
                                         error_type=error.type if error else "")
    if error:
        cls = _exception_class(error.type)
        if cls is not None:
            try:
                exc = cls(error.message)
                exc.add_note(f"raised by run {record.id} ({record.name}); remote traceback:\n"
                             f"{error.traceback}")
                return exc
            except Exception:
                pass
    return FailedRun(message, run_id=record.id, state=record.state,
                     error_type=error.type if error else "")


def state_of(record: RunRecord) -> State:
    """The `State` of a run as its record holds it now (`future.state`,
    ``run_deployment(...).state``): name, message, error, and the time the state was
    entered (its end, its start or its creation). Its ``result()`` reads the stored value
    when asked."""
    when = record.end_time if record.is_terminal else record.start_time
    future: TaskFuture[Any] = TaskFuture(record.id, record.name)
    return State(record.state, record.id, record.state_message, record.error,
                 timestamp=when or record.created,
                 fetch=lambda raise_on_failure: future.outcome(
                     raise_on_failure=raise_on_failure))


class TaskFuture(Generic[R]):
    """A run on a Celery queue, and the way to its state and result."""

    __slots__ = ("id", "name", "return_type")

    stored_outcome: ClassVar[bool] = True
    """Whether the value is the stored one that `outcome_from` reads (False for an eager
    result, which holds its own): `FutureList.result` reads such runs together."""

    def __init__(self, run_id: str, name: str = "", return_type: Any = Any) -> None:
        self.id = run_id
        self.name = name
        self.return_type = return_type  # the task's return annotation: results decode to it

    def __repr__(self) -> str:
        return f"TaskFuture({self.id!r}, name={self.name!r})"

    @property
    def task_run_id(self) -> str:
        """Prefect's name for the run id."""
        return self.id

    @property
    def state(self) -> State:
        """The current state (one read): a `State`, equal to its name (``"Completed"``, a
        `StateName`) and to its Celery name (``"SUCCESS"``); RunNotFound for no such run."""
        records = get_runtime().store.get_many([self.id])
        if not records:
            raise RunNotFound(f"run {self.id!r} not found (it may have expired)")
        return state_of(records[0])

    def ready(self) -> bool:
        """Whether the run reached a final state."""
        return is_terminal(self.state)

    def record(self) -> RunRecord:
        """The full run record with its state history."""
        return get_runtime().store.get(self.id)

    def wait(self, timeout: float | None = None) -> State:
        """Block until the run is final and return its state; RunTimeout when it is not."""
        if not get_runtime().store.wait(self.id, timeout):
            raise RunTimeout(f"run {self.id} ({self.name}) not finished after {timeout}s; "
                             f"state is {get_runtime().store.state_of(self.id)}")
        return self.state

    def result(self, timeout: float | None = None, *, raise_on_failure: bool = True) -> R:
        """Wait and return the run's value; raise its error when it did not complete."""
        if not get_runtime().store.wait(self.id, timeout):
            raise RunTimeout(f"run {self.id} ({self.name}) not finished after {timeout}s; "
                             f"state is {get_runtime().store.state_of(self.id)}")
        return self.outcome(raise_on_failure=raise_on_failure)

    def outcome(self, *, raise_on_failure: bool = True) -> R:
        """The value of a run that has ended, read now (no wait); its error when it did
        not complete (raised unless `raise_on_failure` is False, then returned)."""
        state, stored, text = get_runtime().store.outcome_of(self.id)
        return self.outcome_from(state, stored, text, raise_on_failure=raise_on_failure)

    def outcome_from(self, state: str | None, stored: bool, text: str | None, *,
                     raise_on_failure: bool = True) -> R:
        """`outcome` from what `RunStore.outcome_of` read for this run (`FutureList.result`
        reads many in one round trip)."""
        if state in (StateName.COMPLETED, StateName.CACHED):
            if not stored:
                return None  # type: ignore[return-value]
            if text is None:
                raise ResultError(
                    f"result of run {self.id} has expired (TASKS_CORE_RESULT_TTL_SECONDS)")
            value: R = decode_result(text, self.return_type)
            return value
        exc = run_exception(self.record())
        if raise_on_failure:
            raise exc
        return exc  # type: ignore[return-value]

    def get(self, timeout: float | None = None, propagate: bool = True) -> R:
        """Celery's name for `result`."""
        return self.result(timeout, raise_on_failure=propagate)

    def cancel(self, *, force: bool = False) -> StateName:
        """Cancel the run (and the runs started inside it): a run not started yet never
        starts (Cancelled); a running one is told to stop (Cancelling, then Cancelled);
        `force` also kills the worker process running it (prefork pool). The run's state
        once the request is recorded (see `tasks_core.cancel_run`)."""
        return cancel_run(self.id, force=force)

    def revoke(self, terminate: bool = False) -> StateName:
        """Celery's name for `cancel`: ``revoke(terminate=True)`` is ``cancel(force=True)``."""
        return self.cancel(force=terminate)


_POLL_S = 0.02
"""How often `wait_all` reads states while runs finish (seconds)."""


def wait_all(futures: Iterable[TaskFuture[Any]], timeout: float | None = None,
             window: int = MAX_WINDOW) -> list[StateName]:
    """Wait for many runs; their final states, in order.

    Each poll reads the states of the oldest unfinished runs in one pipeline (runs mostly
    finish in the order they were sent): about twice as many as finished between the last
    two polls, at least 16 (or `window`, if smaller) and at most `window`
    (`tasks_core.poll_window.next_window`).
    When every run a poll read had finished, the next poll reads twice as many at once;
    otherwise it follows 20 ms later while runs finish (as often as a Celery caller
    polling its result backend), backing off to 50 ms while none does. So waiting on
    thousands of runs costs the waiter about what finishes, not what is left (on two cores
    a 5 ms poll of 256 states cost the drain it waited on about a fifth of its throughput).

    Raises `RunTimeout` when `timeout` (seconds) passes first, ValueError when `window` is
    below 1.
    """
    if window < 1:
        raise ValueError(f"wait_all: window must be at least 1, got {window}")
    items: Sequence[TaskFuture[Any]] = list(futures)
    store = get_runtime().store
    states: dict[str, str] = {}

    def ended(head: list[str]) -> list[bool]:
        for run_id, state in zip(head, store.states_of(head), strict=True):
            if state is not None and is_terminal(state):
                states[run_id] = state
        return [run_id in states for run_id in head]

    deadline = None if timeout is None else time.monotonic() + timeout
    left = poll_oldest([f.id for f in items], ended, deadline=deadline, pause_s=_POLL_S,
                       cap=window)
    if left:
        raise RunTimeout(f"{len(left)} of {len(items)} runs not finished after {timeout}s")
    return [StateName(states[f.id]) for f in items]
