"""Due times of schedules (pure): cron with a time zone, interval with an anchor, rrule."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from dateutil.rrule import rrulestr

__all__ = ["due_times"]


def due_times(schedule: dict[str, Any], after: datetime, until: datetime,
              limit: int) -> list[datetime]:
    """Times of `schedule` in (after, until], oldest first, at most `limit` (aware UTC)."""
    if "cron" in schedule:
        return _cron(schedule["cron"], schedule.get("timezone", "UTC"), after, until, limit)
    if "interval" in schedule:
        return _interval(float(schedule["interval"]),
                         datetime.fromisoformat(schedule["anchor_date"]), after, until, limit)
    if "rrule" in schedule:
        return _rrule(schedule["rrule"], schedule.get("timezone", "UTC"), after, until, limit)
    raise ValueError(f"unknown schedule {schedule!r}")


def _cron(expr: str, tz: str, after: datetime, until: datetime, limit: int) -> list[datetime]:
    zone = zoneinfo.ZoneInfo(tz)
    it = croniter(expr, after.astimezone(zone))
    found: list[datetime] = []
    while len(found) < limit:
        moment: datetime = it.get_next(datetime)
        if moment > until:
            break
        found.append(moment.astimezone(after.tzinfo))
    return found


def _interval(seconds: float, anchor: datetime, after: datetime, until: datetime,
              limit: int) -> list[datetime]:
    step = timedelta(seconds=seconds)
    count = max(0, int((after - anchor) / step) + 1) if after >= anchor else 0
    found: list[datetime] = []
    moment = anchor + count * step
    while moment <= until and len(found) < limit:
        if moment > after:
            found.append(moment)
        moment += step
    return found


def _rrule(rule: str, tz: str, after: datetime, until: datetime, limit: int) -> list[datetime]:
    zone = zoneinfo.ZoneInfo(tz)
    parsed = rrulestr(rule, dtstart=after.astimezone(zone), forceset=True)
    found = [m.astimezone(after.tzinfo) for m in parsed.between(after, until, inc=False)]
    return found[:limit]
