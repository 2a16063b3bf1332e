"""The error tree of tasks-core.

    TasksCoreError
      ConfigurationError
      ValidationError            ParameterError, ResultError, EventError, TemplateError
      NotFoundError              RunNotFound, TaskNotFound, DeploymentNotFound, WorkPoolNotFound,
                                 DeadLetterNotFound, ArtifactNotFound
      InvalidTransition
      StoreUnavailable
      RunError                   FailedRun (UpstreamFailed), CrashedRun, CancelledRun,
                                 TimedOutRun
      RunTimeout                 (waiting for a run took longer than asked; also a builtin
                                 TimeoutError and a celery.exceptions.TimeoutError)
      FlowSuspended              (suspend_flow_run ends the attempt; the run stays Paused)

Messages name the thing that was wrong and, where there is one, the fix.
"""

from __future__ import annotations

import redis
from celery.exceptions import SoftTimeLimitExceeded, TaskRevokedError
from celery.exceptions import TimeoutError as CeleryTimeoutError

__all__ = [
    "ArtifactNotFound",
    "CancelledRun",
    "ConfigurationError",
    "CrashedRun",
    "DeadLetterNotFound",
    "DeploymentNotFound",
    "EventError",
    "FailedRun",
    "FlowSuspended",
    "InvalidTransition",
    "NotFoundError",
    "ParameterError",
    "ResultError",
    "RunError",
    "RunNotFound",
    "RunTimeout",
    "StoreUnavailable",
    "TaskCancelled",
    "TaskNotFound",
    "TaskTimeout",
    "TasksCoreError",
    "TemplateError",
    "TimedOutRun",
    "UpstreamFailed",
    "ValidationError",
    "WorkPoolNotFound",
]


class TasksCoreError(Exception):
    """Base of every error tasks-core raises on purpose."""


class ConfigurationError(TasksCoreError):
    """Settings or environment are wrong (missing binary, bad URL, bad file)."""


class ValidationError(TasksCoreError, ValueError):
    """An external input did not validate."""


class ParameterError(ValidationError, TypeError):
    """Arguments do not bind to a signature or are not JSON."""


class ResultError(ValidationError):
    """A run's return value cannot be stored (not JSON, or too large)."""


class EventError(ValidationError):
    """A malformed event."""


class TemplateError(ValidationError):
    """A template failed to render."""


class NotFoundError(TasksCoreError, LookupError):
    """Something looked up by name or id does not exist."""


class RunNotFound(NotFoundError):
    """No run record with that id."""


class DeadLetterNotFound(NotFoundError):
    """No dead-letter entry with that id (or id prefix)."""


class TaskNotFound(NotFoundError):
    """A task key that the worker cannot import."""


class DeploymentNotFound(NotFoundError):
    """No deployment with that name or id."""


class WorkPoolNotFound(NotFoundError):
    """No work pool with that name."""


class ArtifactNotFound(NotFoundError):
    """No artifact with that id or key."""


class InvalidTransition(TasksCoreError):
    """A state change the state machine refuses (terminal states are final)."""


class StoreUnavailable(TasksCoreError, ConnectionError, redis.ConnectionError):
    """Redis could not be reached (at start, or it went away and retries ran out); the
    message names the URL. It is also a `redis.ConnectionError`, so code that retries on
    those keeps doing so."""


class StoreRefusing(StoreUnavailable):
    """Redis answers but refuses writes for now: out of memory under ``noeviction``
    (``OOM``), a replica after a failover (``READONLY``), a failing save (``MISCONF``),
    another client's long script (``BUSY``). Handled as Redis away: what was being written
    is kept and sent again until Redis takes it; the message says what Redis answered."""


class RunError(TasksCoreError):
    """A run ended in a state other than Completed/Cached.

    Attributes:
        run_id: the run.
        state: the final state name.
        error_type: the type name of the original exception, when there was one.
    """

    def __init__(
        self, message: str, *, run_id: str = "", state: str = "", error_type: str = ""
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.state = state
        self.error_type = error_type


class FailedRun(RunError):
    """The run raised (after its retries)."""


class UpstreamFailed(FailedRun):
    """A run did not start because a run it depends on (a future among its arguments, or
    in its ``wait_for``) did not complete; wrap that upstream in ``allow_failure(...)`` to
    start anyway (Prefect's ``UpstreamTaskError``). Never retried."""


class CrashedRun(RunError):
    """The process running it died."""


class CancelledRun(RunError, TaskRevokedError):  # type: ignore[misc]
    """The run was cancelled (revoked, or expired). Also Celery's
    ``celery.exceptions.TaskRevokedError``, what Celery's ``get()`` raises for a revoked
    task, so Celery code's ``except TaskRevokedError:`` catches it."""


class TimedOutRun(RunError, SoftTimeLimitExceeded):  # type: ignore[misc]
    """The run exceeded its timeout_seconds (Celery's soft_time_limit). Also Celery's
    ``celery.exceptions.SoftTimeLimitExceeded``, what Celery's ``get()`` raises for a task
    that did not catch its soft time limit."""

    def __str__(self) -> str:  # billiard's __str__ shows the repr; keep the plain message
        return Exception.__str__(self)


class RunTimeout(TasksCoreError, TimeoutError, CeleryTimeoutError):  # type: ignore[misc]
    """Waiting for a run's result took longer than the caller allowed.

    Also a ``celery.exceptions.TimeoutError`` (what Celery's ``AsyncResult.get(timeout=)``
    raises), so ``except celery.exceptions.TimeoutError:`` catches it."""


class TaskTimeout(SoftTimeLimitExceeded, TimeoutError):  # type: ignore[misc]
    """Raised inside a running task or flow when its timeout_seconds (or Celery's
    soft_time_limit) pass. It is Celery's `celery.exceptions.SoftTimeLimitExceeded` too, so
    Celery code's ``except SoftTimeLimitExceeded:`` clean-up runs (Celery's user guide,
    "Time limits"), and a builtin TimeoutError."""

    def __str__(self) -> str:  # billiard's __str__ shows the repr; keep the plain message
        return Exception.__str__(self)


class FlowSuspended(TasksCoreError):
    """Raised by `suspend_flow_run` to end a deployment flow run's attempt: the engine
    leaves the run Paused (no outcome written, no hooks) and the worker's slot is freed; a
    resume sends it again (`tasks_core.suspending`). Do not catch it in a flow body."""


class TaskCancelled(TasksCoreError):
    """Raised inside a running task or flow when its run is cancelled (`cancel_run`,
    `TaskFuture.cancel`, `tasks-core flow-run cancel`): the run then ends Cancelled, never
    retried. Code that catches it and carries on still ends Cancelled.

    Attributes:
        run_id: the run that was cancelled (a child run's TaskCancelled re-raised in its
            parent is a plain failure of the parent, as with TaskTimeout).
    """

    def __init__(self, message: str = "the run was cancelled", *, run_id: str = "") -> None:
        super().__init__(message)
        self.run_id = run_id
