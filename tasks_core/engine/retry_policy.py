"""Which failures are retried, and after how long: the pure parts of `outcome.decide`.

Two vocabularies meet on one mechanism (`RunOptions`):

- Prefect's: `retries`, `retry_delay_seconds` (a number or a list, the last repeating),
  `retry_jitter_factor` (adds up to factor x delay), `retry_condition_fn` (False: no retry).
- Celery's (user guide "Tasks", *Automatic retry for known exceptions*): `autoretry_for`
  (only these exception types are retried), `dont_autoretry_for` (never these),
  `max_retries` (None: forever), `retry_backoff` (delay = factor x 2**n for retry n,
  n from 0), `retry_backoff_max` (cap, default 600 s) and `retry_jitter` ("full jitter": the
  delay is random between 0 and the backoff).

Exception classes travel with the run as importable names (``module.Qualname``, builtins
bare, as `outcome.error_info` records them) and match the exception's whole MRO, so a
subclass of a listed type is retried, as `isinstance` would say. A crash (the process died:
no exception object) is not filtered: it retries while retries are left.

Pure: no I/O; randomness comes in as `rng`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tasks_core.errors import ConfigurationError
from tasks_core.records import RunOptions

__all__ = ["attempts_left", "backoff", "class_name", "exception_names", "names_of",
           "retry_allowed", "retry_delay"]

_MAX_EXPONENT = 64
"""2**n stops growing here (retries forever would otherwise overflow a float)."""


def class_name(cls: type) -> str:
    """``module.Qualname`` of a class (bare for builtins), as errors are recorded."""
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def exception_names(exc: BaseException) -> set[str]:
    """The names of every class `exc` is an instance of (its MRO)."""
    return {class_name(cls) for cls in type(exc).__mro__}


def retry_allowed(options: RunOptions, exc: BaseException | None) -> bool:
    """Whether a failure raising `exc` may be retried by the exception filters (`None`:
    a crash, never filtered). With `autoretry_for` set, only those types; never a
    `dont_autoretry_for` type."""
    if exc is None:
        return True
    names = exception_names(exc)
    if options.dont_autoretry_for and names.intersection(options.dont_autoretry_for):
        return False
    return not options.autoretry_for or bool(names.intersection(options.autoretry_for))


def attempts_left(options: RunOptions, attempt: int) -> bool:
    """Whether attempt `attempt` (1-based) may be followed by another."""
    return options.retry_forever or attempt <= options.retries


def backoff(options: RunOptions, attempt: int, rng: Callable[[], float]) -> float:
    """Celery's exponential backoff for the retry after attempt `attempt`: factor x
    2**(attempt-1), capped at `retry_backoff_max`, then full jitter (uniform in [0, it])."""
    growth = float(2 ** min(attempt - 1, _MAX_EXPONENT))
    delay = min(options.retry_backoff_max, options.retry_backoff * growth)
    if options.retry_jitter:
        delay = rng() * delay
    return max(0.0, delay)


def retry_delay(options: RunOptions, attempt: int, rng: Callable[[], float]) -> float | None:
    """Seconds before attempt `attempt + 1`, or None when no attempt is left: Celery's
    backoff when `retry_backoff` is set, else `retry_delays[attempt-1]` (the last
    repeating) plus up to `retry_jitter_factor` x that delay."""
    if not attempts_left(options, attempt):
        return None
    if options.retry_backoff:
        return backoff(options, attempt, rng)
    delays = options.retry_delays or [0.0]
    delay = delays[min(attempt - 1, len(delays) - 1)]
    if options.retry_jitter_factor:
        delay += rng() * options.retry_jitter_factor * delay
    return delay


def names_of(owner: str, option: str, classes: Iterable[object]) -> list[str]:
    """Validated exception classes of `option` as names (for `RunOptions`).

    Raises:
        ConfigurationError: an item is not an exception class, naming it.
    """
    names = []
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise ConfigurationError(f"{owner}: {option} must hold exception classes, "
                                     f"got {cls!r}")
        names.append(class_name(cls))
    return names
