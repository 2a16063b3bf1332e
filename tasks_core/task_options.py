"""Celery's task decorator options (and Prefect's `retry_condition_fn`), validated when
the decorator runs and turned into what a run carries (`RunOptions`).

Semantics are Celery's documented ones (docs.celeryq.dev, user guide "Tasks": *Task
options*, *Retrying*, *Automatic retry for known exceptions*; "Workers": *Time limits*):

============================  =============================================================
option                        in tasks-core
============================  =============================================================
bind=True                     the function's first argument is the Task (``self.request``,
                              ``self.retry``, ``self.update_state``: `task_celery`)
autoretry_for=(E, ...)        only these exception types are retried (max_retries times)
dont_autoretry_for=(E, ...)   these are never retried
max_retries=3                 the most retries (None: forever): of ``self.retry()``, and of
                              automatic retries when `autoretry_for` is given
default_retry_delay=180       seconds before a retry ``self.retry()`` (or `autoretry_for`
                              without a backoff) asks for without a countdown
retry_backoff=False           True (factor 1) or a factor: delays factor x 2**n seconds
retry_backoff_max=600         caps the backoff delay (seconds)
retry_jitter=True             with a backoff: "full jitter", uniform between 0 and the delay
retry_kwargs={...}            ``max_retries`` and ``countdown`` of automatic retries
soft_time_limit=S             `SoftTimeLimitExceeded` raised in the body after S seconds
time_limit=S                  the hard limit: a worker kills the attempt after S seconds
ignore_result=True            the return value is not stored (the run is still recorded)
acks_late, reject_on_worker_lost   always on in tasks-core (True accepted, False refused)
serializer="json"             the only serializer (pickle is never accepted)
retry_condition_fn=fn         Prefect's: ``fn(task, task_run, state) -> bool``; False: the
                              failure is final
============================  =============================================================

`base=` (a Task subclass) is handled by the `task` decorator, which instantiates it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tasks_core.engine.retry_policy import names_of
from tasks_core.errors import ConfigurationError

__all__ = ["CELERY_OPTIONS", "CeleryOptions", "call_limits", "parse_celery_options"]

CELERY_OPTIONS = ("bind", "autoretry_for", "dont_autoretry_for", "max_retries",
                  "default_retry_delay", "retry_backoff", "retry_backoff_max", "retry_jitter",
                  "retry_kwargs", "soft_time_limit", "time_limit", "ignore_result",
                  "acks_late", "reject_on_worker_lost", "serializer", "retry_condition_fn")
"""The options this module takes (anything else is refused, naming it)."""

_ALWAYS_ON = {
    "acks_late": "tasks-core always acknowledges a message after the attempt's outcome is "
                 "recorded",
    "reject_on_worker_lost": "a run whose worker process died is always recovered (Crashed "
                             "or retried), never lost",
}


@dataclass(frozen=True, slots=True)
class CeleryOptions:
    """Validated Celery options of one task.

    Attributes:
        bind: the function takes the Task first.
        max_retries: the most retries of ``self.retry()`` (None: forever).
        default_retry_delay: seconds, when ``self.retry()`` gives no countdown or eta.
        retry_condition_fn: Prefect's predicate, None: none.
        run_options: the `RunOptions` fields these options set.
    """

    bind: bool = False
    max_retries: int | None = 3
    default_retry_delay: float = 180.0
    retry_condition_fn: Callable[..., Any] | None = None
    run_options: Mapping[str, Any] | None = None


def _seconds(owner: str, option: str, value: Any, *, positive: bool = True) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) \
            or value < 0 or (positive and value == 0):
        raise ConfigurationError(f"{owner}: {option} must be a number of seconds "
                                 f"{'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _max_retries(owner: str, value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 0):
        raise ConfigurationError(f"{owner}: max_retries must be an int >= 0 or None "
                                 f"(retry forever), got {value!r}")
    return value


def _backoff(owner: str, value: Any) -> float:
    if value is True:
        return 1.0
    if value is False or value is None:
        return 0.0
    found = _seconds(owner, "retry_backoff", value, positive=False)
    return found or 0.0


def _exceptions(owner: str, option: str, value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, type):
        value = (value,)
    if not isinstance(value, Sequence):
        raise ConfigurationError(f"{owner}: {option} must be a tuple of exception classes, "
                                 f"got {value!r}")
    return names_of(owner, option, value)


def _refusals(owner: str, given: Mapping[str, Any]) -> None:
    unknown = sorted(set(given) - set(CELERY_OPTIONS))
    if unknown:
        raise TypeError(f"{owner}: unknown option {unknown[0]!r} (tasks-core takes "
                        f"Prefect's options and Celery's {', '.join(CELERY_OPTIONS)})")
    for option, reason in _ALWAYS_ON.items():
        if option in given and not given[option]:
            raise ConfigurationError(f"{owner}: {option}=False is not supported: {reason}; "
                                     f"leave it out or set it True")
    serializer = given.get("serializer", "json")
    if serializer != "json":
        raise ConfigurationError(f"{owner}: serializer {serializer!r} is not supported: "
                                 "messages are JSON only (pickle is never accepted)")
    condition = given.get("retry_condition_fn")
    if condition is not None and not callable(condition):
        raise ConfigurationError(f"{owner}: retry_condition_fn must be callable "
                                 "(task, task_run, state) -> bool")


def _retry_kwargs(owner: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or set(value) - {"max_retries", "countdown"}:
        raise ConfigurationError(f"{owner}: retry_kwargs takes only 'max_retries' and "
                                 f"'countdown', got {value!r}")
    return dict(value)


def parse_celery_options(owner: str, given: Mapping[str, Any], *, retries: int,
                         retry_delays: list[float],
                         retry_delay_given: bool) -> CeleryOptions:
    """Validate `given` (the Celery options passed to ``@task``) for the task `owner`
    names, whose Prefect options are `retries` and `retry_delays` (`retry_delay_given`:
    ``retry_delay_seconds`` was passed).

    Raises:
        TypeError: an unknown option, naming it (as Python does for a keyword argument).
        ConfigurationError: a value of the wrong kind, or an option
            tasks-core refuses (serializer other than json, acks_late=False, ...), naming
            the option and why.
    """
    _refusals(owner, given)
    kwargs = _retry_kwargs(owner, given.get("retry_kwargs"))
    max_retries = _max_retries(owner, kwargs.get("max_retries", given.get("max_retries", 3)))
    default_delay = _seconds(owner, "default_retry_delay",
                             given.get("default_retry_delay", 180), positive=False)
    backoff = _backoff(owner, given.get("retry_backoff", False))
    update: dict[str, Any] = {
        "autoretry_for": _exceptions(owner, "autoretry_for", given.get("autoretry_for")),
        "dont_autoretry_for": _exceptions(owner, "dont_autoretry_for",
                                          given.get("dont_autoretry_for")),
        "retry_backoff": backoff,
        "retry_backoff_max": _seconds(owner, "retry_backoff_max",
                                      given.get("retry_backoff_max", 600), positive=False),
        "retry_jitter": bool(backoff) and bool(given.get("retry_jitter", True)),
        "default_retry_delay": default_delay,
        "soft_time_limit": _seconds(owner, "soft_time_limit", given.get("soft_time_limit")),
        "time_limit": _seconds(owner, "time_limit", given.get("time_limit")),
        "ignore_result": bool(given.get("ignore_result", False)),
    }
    if update["autoretry_for"] and not retries:  # Celery: autoretry retries max_retries times
        update["retries"] = max_retries or 0
        update["retry_forever"] = max_retries is None
        if not backoff and not retry_delay_given:
            countdown = _seconds(owner, "retry_kwargs['countdown']", kwargs.get("countdown"),
                                 positive=False)
            update["retry_delays"] = [default_delay if countdown is None else countdown]
    return CeleryOptions(bind=bool(given.get("bind", False)), max_retries=max_retries,
                         default_retry_delay=default_delay or 0.0,
                         retry_condition_fn=given.get("retry_condition_fn"),
                         run_options=update)


def call_limits(name: str, soft_time_limit: Any, time_limit: Any) -> dict[str, float]:
    """`apply_async`'s per-call time limits as `RunOptions` fields (only those given).

    Raises:
        ConfigurationError: a limit that is not a number of seconds > 0.
    """
    owner = f"task {name!r}: apply_async"
    found = {"soft_time_limit": _seconds(owner, "soft_time_limit", soft_time_limit),
             "time_limit": _seconds(owner, "time_limit", time_limit)}
    return {k: v for k, v in found.items() if v is not None}
