"""How a run goes on after an attempt: the one pure decision, for every path.

`decide(options, attempt, ended, now)` turns how an attempt ended (`Ended`) into what
happens next: `Complete`, `Fail` (Failed, TimedOut or Crashed) or `Retry` after a delay.
Direct calls, worker runs, deployment flow runs and crash recovery all call it, so a run
retries, times out and crashes by the same rules wherever it runs:

- An attempt that returns after its deadline (`timeout_seconds`) is timed out, even when
  nothing interrupted it (an async task blocking its loop, a C call that ignores signals).
- A failure is retried while attempts remain (`retries`, or forever), when the exception
  filters allow it (Celery's `autoretry_for` / `dont_autoretry_for`) and the task's
  `retry_condition_fn` (Prefect's) says yes, after the delay of `retry_policy.retry_delay`
  (Prefect's `retry_delays` and jitter factor, or Celery's capped, fully jittered
  backoff). A crash (the process died) follows the same rule; some failures are never
  retried (a result that cannot be stored, a parameter error).
- A retry the body asked for (Celery's ``self.retry()``, which raises
  `celery.exceptions.Retry` after checking its own `max_retries`) is retried at the time it
  names, whatever the filters say.

Pure: no I/O; time and randomness come in as arguments (and a task's retry_condition_fn
as a predicate, the one user call).
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks_core.engine import retry_policy
from tasks_core.engine.codec import safe_text
from tasks_core.errors import TaskTimeout
from tasks_core.records import ErrorInfo, RunOptions
from tasks_core.states import StateName

__all__ = ["Complete", "Decision", "Ended", "Fail", "Retry", "decide", "error_info",
           "retry_delay"]

MESSAGE_CHARS = 20_000
"""Longest recorded exception message and traceback (the tail is kept)."""


def _text_of(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception as err:  # a __str__ that raises must not stop the run from ending
        text = f"<unprintable {type(exc).__name__}: str() raised {type(err).__name__}>"
    return safe_text(text)


def error_info(exc: BaseException) -> ErrorInfo:
    """The exception as recorded on a run: importable type name, message, traceback.

    Never raises: an exception whose ``__str__`` raises, or whose text cannot be encoded,
    is recorded with a placeholder or escaped text.
    """
    cls = type(exc)
    module = cls.__module__
    name = cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
    try:
        text = "".join(traceback.format_exception(cls, exc, exc.__traceback__))
    except Exception:
        text = f"{name}: {_text_of(exc)}\n(traceback could not be formatted)"
    return ErrorInfo(type=safe_text(name), message=_text_of(exc)[:MESSAGE_CHARS],
                     traceback=safe_text(text)[-MESSAGE_CHARS:])


@dataclass(frozen=True, slots=True)
class Ended:
    """How one attempt's body ended.

    Attributes:
        ok: the body returned.
        value: what it returned (kept in process; only `result_json` crosses processes).
        result_json: the value as JSON when it is stored, else None.
        note: why a returned value was not stored (in-process runs keep going without it).
        error: the recorded exception, when the body raised (or the process died).
        exc: the exception object itself (re-raised to an in-process caller).
        timed_out: the body was interrupted by its deadline.
        retryable: False for failures a retry cannot fix.
        crashed: the process running the attempt died or was interrupted.
        cancelled: its run was cancelled and the body stopped (`engine.stopping`).
        elapsed: seconds the body ran.
        retry_when: the body asked to be retried (Celery's ``self.retry``): after these
            seconds, or at this time (a negative number: the task's default_retry_delay).
    """

    ok: bool
    value: Any = None
    result_json: str | None = None
    note: str = ""
    error: ErrorInfo | None = None
    exc: BaseException | None = None
    timed_out: bool = False
    retryable: bool = True
    crashed: bool = False
    elapsed: float = 0.0
    cancelled: bool = False
    retry_when: float | datetime | None = None

    @classmethod
    def failure(cls, exc: BaseException, *, elapsed: float = 0.0, retryable: bool = True,
                crashed: bool = False, timed_out: bool = False,
                cancelled: bool = False, retry_when: float | datetime | None = None) -> Ended:
        """The body raised `exc`; `timed_out`: its own deadline interrupted it (a
        TaskTimeout from a child run that timed out is a plain failure of this one);
        `cancelled`: its own cancellation stopped it (likewise); `retry_when`: it asked for
        a retry (`exc` is then the exception the retry names, or the Retry itself)."""
        return cls(ok=False, error=error_info(exc), exc=exc, elapsed=elapsed,
                   timed_out=timed_out, retryable=retryable, crashed=crashed,
                   cancelled=cancelled, retry_when=retry_when)

    @classmethod
    def crash(cls, reason: str) -> Ended:
        """The process running the attempt died: only the reason is known."""
        return cls(ok=False, error=ErrorInfo(type="Crashed", message=reason), crashed=True)


@dataclass(frozen=True, slots=True)
class Complete:
    """The run completed; `result_json` is stored (None: nothing stored, see `note`)."""

    result_json: str | None
    value: Any = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Fail:
    """The run ends in `state` (Failed, TimedOut, Crashed or Cancelled) with `error`."""

    state: StateName
    error: ErrorInfo
    exc: BaseException | None = None

    @property
    def message(self) -> str:
        """The state message: the exception's type and text."""
        return f"{self.error.type}: {self.error.message}"[:500]


@dataclass(frozen=True, slots=True)
class Retry:
    """Attempt again at `when` (`delay` seconds after the decision)."""

    error: ErrorInfo
    delay: float
    when: datetime
    exc: BaseException | None = None

    @property
    def message(self) -> str:
        """The AwaitingRetry state message."""
        return f"retrying in {self.delay:.3g}s after {self.error.type}: {self.error.message}"[:500]


Decision = Complete | Fail | Retry


def cancelled_before_start(run_id: str) -> Fail:
    """How a run cancelled before it started ended, for the message that finds it so (the
    worker's Celery task then shows it revoked)."""
    return Fail(StateName.CANCELLED,
                ErrorInfo(type="Cancelled", message=f"run {run_id} was cancelled before it "
                          "started"))


def retry_delay(options: RunOptions, attempt: int,
                rng: Callable[[], float] = random.random) -> float | None:
    """Seconds before attempt `attempt + 1`, or None when no attempt is left
    (`retry_policy.retry_delay`)."""
    return retry_policy.retry_delay(options, attempt, rng)


def _requested(options: RunOptions, when: float | datetime, now: datetime) -> float:
    """Seconds until a retry the body asked for: a countdown, an ETA, or (negative) the
    task's `default_retry_delay`."""
    if isinstance(when, datetime):
        aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # as apply_async
        return max(0.0, (aware - now).total_seconds())
    return options.default_retry_delay if when < 0 else float(when)


def _delay(options: RunOptions, attempt: int, ended: Ended, now: datetime,
           rng: Callable[[], float], condition: Callable[[Ended], bool] | None) -> float | None:
    """Seconds before the next attempt of a failed one, or None: it is final."""
    if ended.retry_when is not None:
        return _requested(options, ended.retry_when, now)
    if not retry_policy.retry_allowed(options, None if ended.crashed else ended.exc):
        return None
    delay = retry_delay(options, attempt, rng)
    if delay is not None and condition is not None and not condition(ended):
        return None
    return delay


def _late(options: RunOptions, ended: Ended) -> bool:
    limit = options.timeout_seconds
    return limit is not None and ended.elapsed > limit and not ended.crashed


def decide(options: RunOptions, attempt: int, ended: Ended, now: datetime, *,
           may_retry: bool = True, rng: Callable[[], float] = random.random,
           condition: Callable[[Ended], bool] | None = None) -> Decision:
    """What follows attempt `attempt` (1-based) that ended as `ended`, at `now`.

    `may_retry` False makes any failure final (an interrupted process that must not go
    on). `condition`: Prefect's `retry_condition_fn` as a predicate on the failure, asked
    only when a retry would otherwise follow (False: the failure is final). Pure but for
    `condition`: `rng` gives the jitter's random number in [0, 1).
    """
    late = _late(options, ended)
    if ended.ok and not late:
        return Complete(ended.result_json, ended.value, ended.note)
    exc = ended.exc
    if late and not ended.timed_out:
        exc = TaskTimeout(f"finished after {ended.elapsed:.3g}s, past its timeout of "
                          f"{options.timeout_seconds:g}s")
        error = error_info(exc)
    else:
        assert ended.error is not None, "a failed attempt records its error"
        error = ended.error
    if ended.cancelled:
        return Fail(StateName.CANCELLED, error, exc)
    delay = (_delay(options, attempt, ended, now, rng, condition)
             if may_retry and ended.retryable else None)
    if delay is not None:
        return Retry(error, delay, now + timedelta(seconds=delay), exc)
    state = (StateName.CRASHED if ended.crashed else
             StateName.TIMED_OUT if late or ended.timed_out else StateName.FAILED)
    return Fail(state, error, exc)
