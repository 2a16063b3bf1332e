"""Retention of finished runs: which TTL a run gets when it ends, and the cut-off times
beat's sweeper prunes the run indexes by.

Pure logic, no I/O. Two settings decide (see README "Retention"):

- ``run_ttl_seconds`` (default 1 day, like Celery's ``result_expires``): runs that end
  Completed, Cached or Cancelled;
- ``failed_run_ttl_seconds`` (default 7 days): runs that end Failed, TimedOut (type FAILED)
  or Crashed, so an operator can still read a failure after a weekend.

The clock of a run starts when it becomes terminal (transition.lua, canvas_follow.lua set
the TTLs then); a run that is not terminal has no TTL on its record and never expires.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tasks_core.settings import Settings
from tasks_core.states import TERMINAL, StateName, StateType, state_type

__all__ = [
    "FAILED_TYPES",
    "idempotency_ttl",
    "run_ttl",
    "runs_cutoff",
    "shortest_ttl",
    "state_cutoffs",
]

FAILED_TYPES: frozenset[StateType] = frozenset({StateType.FAILED, StateType.CRASHED})
"""State types whose runs are kept for ``failed_run_ttl_seconds`` (Failed, TimedOut,
Crashed); every other terminal state is kept for ``run_ttl_seconds``."""


def run_ttl(settings: Settings, state: str) -> int:
    """Seconds a run that just entered terminal `state` (a state name) is kept.

    Raises:
        ValueError: `state` is not a state name, or not a terminal one.
    """
    name = StateName(state)
    if name not in TERMINAL:
        raise ValueError(f"state {name.value!r} is not terminal: runs in it never expire")
    if state_type(name) in FAILED_TYPES:
        return settings.failed_run_ttl_seconds
    return settings.run_ttl_seconds


def shortest_ttl(settings: Settings) -> int:
    """The shortest TTL any finished run gets (seconds)."""
    return min(settings.run_ttl_seconds, settings.failed_run_ttl_seconds)


def state_cutoffs(settings: Settings, now: float) -> Mapping[StateName, float]:
    """For each terminal state, the entry time (epoch seconds) at or before which a run
    still indexed under that state has expired: ``now - run_ttl(state)``.

    A terminal state index (`p:<kind>-runs:state:<S>`) is scored by the time the run
    entered S, the same moment its TTL was set, so entries at or below the cut-off are
    exactly the expired ones (to within the clock difference of writer and Redis).
    """
    return {name: now - run_ttl(settings, name) for name in sorted(TERMINAL)}


def runs_cutoff(settings: Settings, now: float) -> float:
    """The creation time (epoch seconds) after which every run in `p:<kind>-runs` still
    has its record: a run created later cannot have ended and expired by `now`. Runs
    created at or before it are only candidates (a long-running one is still there), so
    each is checked before removal."""
    return now - shortest_ttl(settings)


def idempotency_ttl(settings: Settings, now: datetime,
                    scheduled_time: datetime | None = None) -> int:
    """Seconds a deployment's idempotency key (`p:idem:<dep id>:<key>`) is kept: the longer
    run TTL, plus the time until `scheduled_time` when that is later than `now` (both
    timezone-aware), so a call repeated while the run waits for its time, or while its
    record can still be read, finds the same run instead of creating a second one."""
    ahead = 0.0 if scheduled_time is None else (scheduled_time - now).total_seconds()
    return max(settings.run_ttl_seconds, settings.failed_run_ttl_seconds) + max(0, int(ahead))
