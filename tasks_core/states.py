"""Run states: names over a small set of types, the terminal set, and allowed transitions;
the `State` object user code sees, and Prefect's state constructors.

Pure logic, no I/O. The Lua transition script receives `allowed_sources(target)` from here,
so this module is the one source of truth for the state machine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tasks_core.records import ErrorInfo

__all__ = [
    "CELERY_STATES",
    "CLAIMABLE",
    "INITIAL",
    "TERMINAL",
    "AwaitingRetry",
    "Cached",
    "Cancelled",
    "Cancelling",
    "Completed",
    "Crashed",
    "Failed",
    "Late",
    "Paused",
    "Pending",
    "Retrying",
    "Running",
    "Scheduled",
    "State",
    "StateName",
    "StateType",
    "TimedOut",
    "allowed_sources",
    "can_transition",
    "celery_state",
    "is_terminal",
    "state_type",
]


class StateType(StrEnum):
    """The coarse kind of a state; several names share a type."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CRASHED = "CRASHED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    PAUSED = "PAUSED"


class StateName(StrEnum):
    """Every state a task or flow run can be in."""

    SCHEDULED = "Scheduled"
    LATE = "Late"
    AWAITING_RETRY = "AwaitingRetry"
    PENDING = "Pending"
    RUNNING = "Running"
    RETRYING = "Retrying"
    COMPLETED = "Completed"
    CACHED = "Cached"
    FAILED = "Failed"
    TIMED_OUT = "TimedOut"
    CRASHED = "Crashed"
    CANCELLING = "Cancelling"
    CANCELLED = "Cancelled"
    PAUSED = "Paused"


_TYPES: dict[StateName, StateType] = {
    StateName.SCHEDULED: StateType.SCHEDULED,
    StateName.LATE: StateType.SCHEDULED,
    StateName.AWAITING_RETRY: StateType.SCHEDULED,
    StateName.PENDING: StateType.PENDING,
    StateName.RUNNING: StateType.RUNNING,
    StateName.RETRYING: StateType.RUNNING,
    StateName.COMPLETED: StateType.COMPLETED,
    StateName.CACHED: StateType.COMPLETED,
    StateName.FAILED: StateType.FAILED,
    StateName.TIMED_OUT: StateType.FAILED,
    StateName.CRASHED: StateType.CRASHED,
    StateName.CANCELLING: StateType.CANCELLING,
    StateName.CANCELLED: StateType.CANCELLED,
    StateName.PAUSED: StateType.PAUSED,
}

S = StateName

TERMINAL: frozenset[StateName] = frozenset(
    {S.COMPLETED, S.CACHED, S.FAILED, S.TIMED_OUT, S.CRASHED, S.CANCELLED}
)
"""Final states: no transition leaves them."""

INITIAL: frozenset[StateName] = frozenset({S.SCHEDULED, S.PENDING, S.RUNNING})
"""States a run record may be created in."""

CLAIMABLE: frozenset[StateName] = frozenset(
    {S.SCHEDULED, S.LATE, S.PENDING, S.PAUSED, S.AWAITING_RETRY}
)
"""States a worker may claim a run from (into Running or Retrying)."""

# Any live run may fail, crash or be cancelled; the rest is listed per source.
_ALWAYS = frozenset({S.FAILED, S.CRASHED, S.CANCELLING, S.CANCELLED})
_RUN_ENDS = frozenset({S.COMPLETED, S.CACHED, S.TIMED_OUT, S.AWAITING_RETRY, S.PAUSED})

_NEXT: dict[StateName, frozenset[StateName]] = {
    S.SCHEDULED: frozenset({S.PENDING, S.LATE, S.RUNNING, S.PAUSED}),
    S.LATE: frozenset({S.PENDING, S.RUNNING, S.PAUSED}),
    S.AWAITING_RETRY: frozenset({S.PENDING, S.LATE, S.RETRYING, S.PAUSED}),
    S.PENDING: frozenset({S.RUNNING, S.CACHED, S.SCHEDULED, S.PAUSED}),
    S.RUNNING: _RUN_ENDS,
    S.RETRYING: _RUN_ENDS,
    S.PAUSED: frozenset({S.PENDING, S.SCHEDULED, S.RUNNING}),
}

TRANSITIONS: dict[StateName, frozenset[StateName]] = {
    name: (_NEXT.get(name, frozenset()) | _ALWAYS) - {name} if name not in TERMINAL else frozenset()
    for name in StateName
}
# Cancelling leads only to Cancelled (Prefect's EnforceCancellingToCancelledTransition): an
# attempt that ends anyway, or crashes, ends the run Cancelled (`engine.lifecycle`).
TRANSITIONS[S.CANCELLING] = frozenset({S.CANCELLED})


def state_type(name: str) -> StateType:
    """The type of a state name (ValueError for an unknown name)."""
    return _TYPES[StateName(name)]


def is_terminal(name: str) -> bool:
    """Whether no transition may leave this state."""
    return StateName(name) in TERMINAL


def can_transition(source: str | None, target: str) -> bool:
    """Whether `source` -> `target` is allowed; `None` is a run not created yet."""
    if source is None:
        return StateName(target) in INITIAL
    return StateName(target) in TRANSITIONS[StateName(source)]


def allowed_sources(target: str) -> frozenset[StateName]:
    """Every state from which `target` may be entered."""
    goal = StateName(target)
    return frozenset(src for src, targets in TRANSITIONS.items() if goal in targets)


CELERY_STATES: dict[StateName, str] = {
    S.SCHEDULED: "PENDING", S.LATE: "PENDING", S.PENDING: "PENDING", S.PAUSED: "PENDING",
    S.RUNNING: "STARTED",
    S.AWAITING_RETRY: "RETRY", S.RETRYING: "RETRY",
    S.COMPLETED: "SUCCESS", S.CACHED: "SUCCESS",
    S.FAILED: "FAILURE", S.TIMED_OUT: "FAILURE", S.CRASHED: "FAILURE",
    S.CANCELLING: "REVOKED", S.CANCELLED: "REVOKED",
}
"""Celery's state name (``celery.states``) for every run state."""


def celery_state(name: str) -> str:
    """Celery's name for a run state: ``"SUCCESS"`` for Completed and Cached, ``"FAILURE"``
    for Failed, TimedOut and Crashed, ``"PENDING"`` for Scheduled, Late, Pending and
    Paused, ``"STARTED"`` for Running, ``"RETRY"`` for AwaitingRetry and Retrying,
    ``"REVOKED"`` for Cancelling and Cancelled (Celery's built-in states,
    docs.celeryq.dev tasks#built-in-states). ValueError for an unknown name."""
    return CELERY_STATES[StateName(name)]



class State(str):
    """A state of a run as user code sees it (Prefect's ``State``): `future.state`,
    ``my_flow(..., return_state=True)``, ``run_deployment(...).state``, the third argument
    of state change hooks, and what Prefect's constructors below return.

    It is a ``str`` equal to its name (``"Completed"``), so it also compares equal to its
    `StateName`, hashes like it and works wherever a state name does (``state in
    TERMINAL``, ``StateName(state)``). It ALSO compares equal to the Celery name of its
    state (`celery_state`: ``state == "SUCCESS"`` after a completed run), so both Celery's
    ``r.state == "SUCCESS"`` and Prefect's ``f.state.is_completed()`` hold. Differs on
    purpose from Prefect: a str, not a pydantic model; ``.data`` is the value only when
    this process knows it.

    Attributes:
        name: the state's `StateName` (``str(state.name) == "Completed"``).
        type: its `StateType` (Cached is COMPLETED, TimedOut is FAILED).
        run_id: the run it belongs to ("" for a state made by a constructor).
        message: the state message ("" when none).
        timestamp: when the state was entered (UTC), when known.
        error: the recorded exception (type, message, traceback), when it failed.
        data: the run's value, when this process holds it (Prefect's name), or its
            exception when it failed.
        exception: the exception object, when this process holds it.
        value: the state's name as a plain str, as `StateName.value` gives it (so code
            written for `StateName` keeps working; the run's value is `data`).
    """

    name: StateName
    run_id: str
    message: str
    timestamp: datetime | None
    error: ErrorInfo | None
    _data: Any
    exception: BaseException | None
    _fetch: Callable[[bool], Any] | None

    def __new__(cls, name: str, run_id: str = "", message: str | None = "",
                error: ErrorInfo | None = None, data: Any = None,
                exception: BaseException | None = None, timestamp: datetime | None = None,
                *, fetch: Callable[[bool], Any] | None = None) -> State:
        """Args: `fetch`: how `result()` reads the run's outcome, given `raise_on_failure`
        (a state read from Redis by a future); without it `data` / `exception` are the
        result.

        Raises:
            ValueError: `name` is not a state name.
        """
        state_name = StateName(name)
        self = super().__new__(cls, state_name.value)
        self.name = state_name
        self.run_id = run_id
        self.message = message or ""
        self.error = error
        self._data = data
        self.exception = exception
        self.timestamp = timestamp
        self._fetch = fetch
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.__eq__(self, other) or other == CELERY_STATES[self.name]
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return f"{self.name.value}(message={self.message!r}, type={self.type.value})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (State, (self.name.value, self.run_id, self.message, self.error, self._data,
                        self.exception, self.timestamp))

    @property
    def type(self) -> StateType:
        """The state's type (several names share one: Cached is COMPLETED)."""
        return state_type(self.name)

    @property
    def data(self) -> Any:
        """The run's value (the exception of a failed state), when this process knows it."""
        return self.exception if self.exception is not None else self._data

    @property
    def value(self) -> str:
        """The state's name as a plain str (``"Completed"``), as `StateName.value`."""
        return self.name.value

    @property
    def celery_state(self) -> str:
        """Celery's name of this state (``SUCCESS``, ``FAILURE``, ``PENDING``, ...)."""
        return CELERY_STATES[self.name]

    def is_final(self) -> bool:
        """Whether the run has ended (no state follows this one)."""
        return is_terminal(self.name)

    def is_scheduled(self) -> bool:
        """Scheduled, Late or AwaitingRetry (type SCHEDULED)."""
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        """Running or Retrying."""
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        """Completed or Cached."""
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        """Failed, TimedOut or Crashed (a crash is a failure to the caller)."""
        return self.type in (StateType.FAILED, StateType.CRASHED)

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_cancelling(self) -> bool:
        return self.type is StateType.CANCELLING

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's value; its exception when it did not complete (raised unless
        `raise_on_failure` is False, then returned), as Prefect's ``State.result``.

        A state read from Redis (`future.state`) reads the stored result when asked.

        Raises:
            the run's exception (see `TaskFuture.result`); ResultError: the state is not
            final, or the stored result has expired.
        """
        if self._fetch is not None:
            if not self.is_final():
                from tasks_core.errors import ResultError

                raise ResultError(f"run {self.run_id} is {self.name.value}: it has no "
                                  "result yet")
            return self._fetch(raise_on_failure)  # reads Redis: only when asked
        if self.exception is not None:
            if raise_on_failure:
                raise self.exception
            return self.exception
        if self.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED):
            from tasks_core.errors import CancelledRun, CrashedRun, FailedRun

            cls = {StateType.CRASHED: CrashedRun, StateType.CANCELLED: CancelledRun}.get(
                self.type, FailedRun)
            exc = cls(self.message or f"the run ended {self.name.value}",
                      run_id=self.run_id, state=self.name)
            if raise_on_failure:
                raise exc
            return exc
        return self._data


def _constructor(name: StateName) -> Callable[..., State]:
    def make(message: str | None = None, *, data: Any = None,
             timestamp: datetime | None = None) -> State:
        exception = data if isinstance(data, BaseException) else None
        return State(name, "", message, data=None if exception else data,
                     exception=exception, timestamp=timestamp or datetime.now(UTC))

    make.__name__ = make.__qualname__ = name.value
    make.__doc__ = (f"A {name.value} state (Prefect's ``prefect.states.{name.value}``): "
                    f"``{name.value}(message=..., data=...)``. A task or flow body that "
                    f"returns it ends {name.value}: `data` is the value of a Completed "
                    "state and the exception of a Failed one.")
    return make


Scheduled = _constructor(S.SCHEDULED)
Late = _constructor(S.LATE)
AwaitingRetry = _constructor(S.AWAITING_RETRY)
Pending = _constructor(S.PENDING)
Running = _constructor(S.RUNNING)
Retrying = _constructor(S.RETRYING)
Completed = _constructor(S.COMPLETED)
Cached = _constructor(S.CACHED)
Failed = _constructor(S.FAILED)
TimedOut = _constructor(S.TIMED_OUT)
Crashed = _constructor(S.CRASHED)
Cancelling = _constructor(S.CANCELLING)
Cancelled = _constructor(S.CANCELLED)
Paused = _constructor(S.PAUSED)
