"""A run's time limits, from its options: the deadline in its body and the hard kill.

Three options meet here (all seconds, None: none):

- `timeout_seconds` (Prefect's): TaskTimeout is raised in the body; catching it does not
  help (the attempt still ends TimedOut).
- `soft_time_limit` (Celery's): the same TaskTimeout, which is Celery's
  `SoftTimeLimitExceeded`, raised in the body; a body that catches it and returns has
  cleaned up and succeeds, as in Celery (user guide "Workers", *Time limits*).
- `time_limit` (Celery's hard limit): on a worker, the Celery message's hard time limit:
  the pool kills the process running the attempt, which then ends Crashed (or is retried).
  Not enforced in a direct call (nothing can kill the caller's own process).

Without `time_limit`, the hard limit is a backstop a little after the body's deadline
(`dispatch.hard_time_limit`), for a body stuck where the deadline cannot interrupt it.

Pure.
"""

from __future__ import annotations

from tasks_core.dispatch import hard_time_limit
from tasks_core.records import RunOptions
from tasks_core.settings import Settings

__all__ = ["body_deadline", "hard_limit", "with_global_limits"]


def with_global_limits(options: RunOptions, settings: Settings) -> RunOptions:
    """A task run's options with the settings' `task_time_limit` / `task_soft_time_limit`
    (Celery's global limits) where the task sets no limit of its own (the same object
    when neither applies)."""
    update: dict[str, float] = {}
    if settings.task_time_limit and options.time_limit is None:
        update["time_limit"] = settings.task_time_limit
    if settings.task_soft_time_limit and options.soft_time_limit is None \
            and options.timeout_seconds is None:
        update["soft_time_limit"] = settings.task_soft_time_limit
    return options.model_copy(update=update) if update else options


def body_deadline(options: RunOptions) -> tuple[float | None, bool]:
    """The body's deadline in seconds (None: none) and whether it is soft (the earlier of
    timeout_seconds and soft_time_limit; on a tie, the strict one)."""
    strict, soft = options.timeout_seconds, options.soft_time_limit
    if soft is None or (strict is not None and strict <= soft):
        return strict, False
    return soft, True


def hard_limit(options: RunOptions) -> float | None:
    """Seconds after which a worker kills an attempt: `time_limit`, else a backstop after
    the body's deadline (None: no limit)."""
    if options.time_limit is not None:
        return options.time_limit
    return hard_time_limit(body_deadline(options)[0])
