"""Run states: names over a small set of types, the terminal set, and allowed transitions.

Pure logic, no I/O. The Lua transition script receives `allowed_sources(target)` from here,
so this module is the one source of truth for the state machine.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CLAIMABLE",
    "INITIAL",
    "TERMINAL",
    "StateName",
    "StateType",
    "allowed_sources",
    "can_transition",
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
