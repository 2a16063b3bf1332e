"""Schedules of deployments as stored: checked and normalized when deploying.

A stored schedule is a dict with exactly one of ``cron`` (with ``timezone``), ``interval``
(seconds, with ``anchor_date``) or ``rrule`` (with ``timezone`` and ``anchor_date``).
Beat computes their times (beat/schedules.py).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from dateutil.rrule import rrulestr

from tasks_core.errors import ConfigurationError
from tasks_core.periodic.crontab import cron_string
from tasks_core.store.runs import utcnow

__all__ = ["validate_schedules"]


def validate_schedules(
    cron: Any, interval: float | timedelta | None, rrule: str | None,
    schedules: list[dict[str, Any]] | None, timezone: str | None = None,
) -> list[dict[str, Any]]:
    """Schedules as stored dicts; ConfigurationError names what is invalid.

    Interval and rrule schedules without an anchor are anchored now, so their times stay
    put however often beat computes them (an rrule's own DTSTART wins over the anchor).
    `cron` (and a schedule's ``cron``) is a cron string or Celery's ``crontab(...)``,
    converted by `tasks_core.periodic.crontab.cron_string` (which refuses what has no
    cron form).
    """
    found = [dict(s) for s in schedules or []]
    if cron:
        found.append({"cron": cron_string(cron), "timezone": timezone or "UTC"})
    if interval is not None:
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval
        found.append({"interval": float(seconds), "timezone": timezone or "UTC"})
    if rrule:
        found.append({"rrule": rrule, "timezone": timezone or "UTC"})
    return [_checked_schedule(schedule) for schedule in found]


def _checked_schedule(schedule: dict[str, Any]) -> dict[str, Any]:
    kinds = [k for k in ("cron", "interval", "rrule") if k in schedule]
    if len(kinds) != 1:
        raise ConfigurationError(
            f"a schedule needs exactly one of cron, interval or rrule, got {schedule!r}")
    known = {"cron", "interval", "rrule", "timezone", "anchor_date"}
    if unknown := sorted(set(schedule) - known):
        raise ConfigurationError(f"unknown schedule field(s) {', '.join(unknown)} in "
                                 f"{schedule!r} (known: {', '.join(sorted(known))})")
    if "cron" in schedule:
        schedule["cron"] = cron_string(schedule["cron"])
    schedule.setdefault("timezone", "UTC")
    try:
        zone = zoneinfo.ZoneInfo(schedule["timezone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"unknown time zone {schedule['timezone']!r}") from None
    if "cron" in schedule and not croniter.is_valid(schedule["cron"]):
        raise ConfigurationError(f"invalid cron expression {schedule['cron']!r}")
    if "interval" in schedule:
        try:
            seconds = float(schedule["interval"])
        except (TypeError, ValueError):
            seconds = 0.0
        if not seconds > 0:
            raise ConfigurationError(f"interval must be > 0 seconds, got {schedule['interval']!r}")
        schedule["interval"] = seconds
    if "interval" in schedule or "rrule" in schedule:
        anchor = schedule.get("anchor_date") or utcnow().isoformat()
        try:
            moment = datetime.fromisoformat(str(anchor))
        except ValueError:
            raise ConfigurationError(f"invalid anchor_date {anchor!r} (ISO 8601)") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        schedule["anchor_date"] = moment.isoformat()
    if "rrule" in schedule:
        try:
            rrulestr(str(schedule["rrule"]), dtstart=datetime.fromisoformat(
                schedule["anchor_date"]), forceset=True)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"invalid rrule {schedule['rrule']!r}: {exc}") from None
    return schedule
