"""Due times of schedules (pure): cron with a time zone, interval with an anchor, rrule."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from dateutil.rrule import rrulestr

__all__ = ["due_times", "next_time"]


def due_times(schedule: dict[str, Any], after: datetime, until: datetime,
              limit: int) -> list[datetime]:
    """Times of `schedule` in (after, until], oldest first, at most `limit` (aware UTC)."""
    if "cron" in schedule:
        return _cron(schedule["cron"], schedule.get("timezone", "UTC"), after, until, limit)
    if "interval" in schedule:
        return _interval(float(schedule["interval"]),
                         datetime.fromisoformat(schedule["anchor_date"]), after, until, limit)
    if "rrule" in schedule:
        found = list(_rrule_set(schedule, after).between(after, until, inc=False))
        return [m.astimezone(after.tzinfo) for m in found[:limit]]
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


def _rrule_set(schedule: dict[str, Any], after: datetime) -> Any:
    """The rule, started at its anchor (its own DTSTART wins), in its time zone."""
    zone = zoneinfo.ZoneInfo(schedule.get("timezone", "UTC"))
    anchor = schedule.get("anchor_date")
    start = datetime.fromisoformat(anchor) if anchor else after
    return rrulestr(schedule["rrule"], dtstart=start.astimezone(zone), forceset=True)


def next_time(schedule: dict[str, Any], after: datetime) -> datetime | None:
    """The first time of `schedule` after `after` (aware UTC), or None when it has ended."""
    if "cron" in schedule:
        zone = zoneinfo.ZoneInfo(schedule.get("timezone", "UTC"))
        moment: datetime = croniter(schedule["cron"], after.astimezone(zone)).get_next(datetime)
        return moment.astimezone(after.tzinfo)
    if "interval" in schedule:
        found = _interval(float(schedule["interval"]),
                          datetime.fromisoformat(schedule["anchor_date"]), after,
                          datetime.max.replace(tzinfo=after.tzinfo), 1)
        return found[0] if found else None
    if "rrule" in schedule:
        following = _rrule_set(schedule, after).after(after, inc=False)
        return following.astimezone(after.tzinfo) if following else None
    raise ValueError(f"unknown schedule {schedule!r}")
