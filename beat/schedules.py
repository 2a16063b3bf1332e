"""Due times of schedules (pure): cron with a time zone, interval with an anchor, rrule.

Schedules that speak local time follow Vixie cron across daylight saving changes
(`beat.localtime`): a fixed local time that occurs twice fires once (the first), one that
does not exist fires once at the next valid instant; an elapsed schedule (cron hour field
``*`` or ``*/n``, an rrule of FREQ=HOURLY or finer without BYHOUR) keeps its elapsed-time
spacing. An interval of whole days in a time zone other than UTC keeps its local wall time
(a fixed-time schedule); any other interval counts elapsed seconds from its anchor.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from croniter import CroniterBadDateError, croniter
from dateutil.rrule import rrulestr

from beat.localtime import collect, wall

__all__ = ["due_times", "is_elapsed_cron", "next_time"]

_DAY = 86400.0
_FAR = timedelta(days=366 * 30)  # how far next_time looks for a schedule's next time


def due_times(schedule: dict[str, Any], after: datetime, until: datetime,
              limit: int) -> list[datetime]:
    """Times of `schedule` in (after, until], oldest first, at most `limit` (aware, in
    `after`'s time zone); ValueError for an unknown kind of schedule."""
    zone = zoneinfo.ZoneInfo(schedule.get("timezone") or "UTC")
    if "cron" in schedule:
        expr = schedule["cron"]
        return collect(lambda start: _cron_walls(expr, start), zone, after, until, limit,
                       elapsed=is_elapsed_cron(expr))
    if "interval" in schedule:
        seconds = float(schedule["interval"])
        anchor = datetime.fromisoformat(schedule["anchor_date"])
        if seconds % _DAY == 0 and schedule.get("timezone", "UTC") != "UTC":
            first, step = wall(anchor, zone), timedelta(seconds=seconds)
            return collect(lambda start: _interval_walls(first, step, start), zone, after,
                           until, limit, elapsed=False)
        return _interval(seconds, anchor, after, until, limit)
    if "rrule" in schedule:
        return _rrule(schedule, zone, after, until, limit)
    raise ValueError(f"unknown schedule {schedule!r}")


def next_time(schedule: dict[str, Any], after: datetime) -> datetime | None:
    """The first time of `schedule` after `after` (aware), or None when it has ended."""
    if "interval" in schedule and "timezone" not in schedule:
        found = _interval(float(schedule["interval"]),
                          datetime.fromisoformat(schedule["anchor_date"]), after,
                          datetime.max.replace(tzinfo=after.tzinfo), 1)
        return found[0] if found else None
    found = due_times(schedule, after, after + _FAR, 1)
    return found[0] if found else None


def is_elapsed_cron(expr: str) -> bool:
    """Whether a cron expression keeps elapsed-time spacing across daylight saving changes:
    its hour field is ``*`` or a step of it (``*/n``), as Vixie cron's HR_STAR."""
    fields = expr.split()
    return len(fields) >= 2 and fields[1].startswith("*")


def _cron_walls(expr: str, start: datetime) -> Iterator[datetime]:
    """The naive wall times matching `expr` after `start` (naive), ascending."""
    it = croniter(expr, start)
    while True:
        try:
            found: datetime = it.get_next(datetime)
        except (CroniterBadDateError, OverflowError):  # no more matching dates
            return
        yield found


def _interval_walls(anchor: datetime, step: timedelta, start: datetime) -> Iterator[datetime]:
    """anchor + k * step (naive wall times) from the first at or after `start`."""
    k = max(0, int((start - anchor) / step)) if start > anchor else 0
    while True:
        yield anchor + k * step
        k += 1


def _interval(seconds: float, anchor: datetime, after: datetime, until: datetime,
              limit: int) -> list[datetime]:
    step = timedelta(seconds=seconds)
    count = max(0, int((after - anchor) / step) + 1) if after >= anchor else 0
    found: list[datetime] = []
    moment = anchor + count * step
    while moment <= until and len(found) < limit:
        if moment > after:
            found.append(moment.astimezone(after.tzinfo))
        moment += step
    return found


_ELAPSED_RRULE = re.compile(r"FREQ=(HOURLY|MINUTELY|SECONDLY)", re.IGNORECASE)


def _rrule(schedule: dict[str, Any], zone: zoneinfo.ZoneInfo, after: datetime,
           until: datetime, limit: int) -> list[datetime]:
    """An rrule's times: generated as wall times in its time zone (its own DTSTART, with
    its own time zone, wins over the anchor), then made instants as Vixie cron does."""
    text = str(schedule["rrule"])
    elapsed = bool(_ELAPSED_RRULE.search(text)) and "BYHOUR" not in text.upper()
    anchor = schedule.get("anchor_date")
    start = datetime.fromisoformat(anchor) if anchor else after
    rule = rrulestr(text, dtstart=wall(start, zone), forceset=True)
    first = next(iter(rule), None)
    if first is None:
        return []
    aware = first.tzinfo is not None  # its own DTSTART with a time zone: walls in that one
    gen_zone: Any = first.tzinfo if aware else zone

    def walls_from(start: datetime) -> Iterator[datetime]:
        # an aware rule compares instants: start an hour early, `collect` drops the extra
        bound = start.replace(tzinfo=gen_zone) - timedelta(hours=1) if aware else start
        return (w.replace(tzinfo=None) for w in rule.xafter(bound, inc=True))

    return collect(walls_from, gen_zone, after, until, limit, elapsed=elapsed)
