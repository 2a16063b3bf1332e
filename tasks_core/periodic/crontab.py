"""Celery's ``crontab(...)`` as the 5-field cron string tasks-core schedules store.

Celery's ``celery.schedules.crontab`` (periodic-tasks#beat-crontab) expands each field to a
set of numbers (``minute``, ``hour``, ``day_of_month``, ``month_of_year``,
``day_of_week`` with 0 = Sunday, as cron's). The string is built from those public sets:
a whole range is ``*``, an even step from the field's start is ``*/n``, consecutive runs
are ``a-b``, the rest comma lists. ``crontab(minute="*/15", hour="9-17",
day_of_week="mon-fri")`` becomes ``"*/15 9-17 * * 1-5"``.

One crontab has no cron string: both a day of the month and a day of the week restricted.
Celery runs only on days matching both; cron (and croniter, which beat evaluates with)
runs on days matching either. It is refused rather than run on other days.
"""

from __future__ import annotations

from typing import Any

from tasks_core.errors import ConfigurationError

__all__ = ["cron_string", "is_crontab"]

# field name, lowest, highest (Celery's sets and cron's ranges agree)
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day_of_month", 1, 31),
           ("month_of_year", 1, 12), ("day_of_week", 0, 6))


def is_crontab(value: object) -> bool:
    """Whether `value` is a Celery ``crontab`` (checked without importing Celery's
    schedules where it is not used)."""
    return type(value).__name__ == "crontab" and all(
        hasattr(value, name) for name, _, _ in _FIELDS)


def _runs(values: list[int]) -> list[str]:
    parts: list[str] = []
    start = prev = values[0]
    for value in [*values[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if value is not None:
            start = prev = value
    return parts


def _field(values: set[int], low: int, high: int) -> str:
    ordered = sorted(values)
    if ordered == list(range(low, high + 1)):
        return "*"
    if len(ordered) > 2 and ordered[0] == low:
        step = ordered[1] - ordered[0]
        if step > 1 and ordered == list(range(low, high + 1, step)):
            return f"*/{step}"
    return ",".join(_runs(ordered))


def cron_string(value: Any) -> str:
    """A cron string as it is (checked later, where schedules are), or a Celery crontab
    converted to one.

    Raises:
        ConfigurationError: a crontab restricting both day_of_month and day_of_week (no
            cron string means the same), or a value that is neither a string nor a crontab.
    """
    if isinstance(value, str):
        return value
    if not is_crontab(value):
        raise ConfigurationError(
            f"a cron schedule must be a cron string or celery.schedules.crontab(...), "
            f"got {type(value).__name__} {value!r}")
    fields = [_field(set(getattr(value, name)), low, high) for name, low, high in _FIELDS]
    if fields[2] != "*" and fields[4] != "*":
        raise ConfigurationError(
            f"{value!r} restricts both day_of_month ({fields[2]}) and day_of_week "
            f"({fields[4]}): Celery runs it on days matching both, a cron string on days "
            "matching either, so it has no cron form; use one of the two, or two entries")
    return " ".join(fields)
