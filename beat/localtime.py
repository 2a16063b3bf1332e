"""Local wall times to instants across daylight saving changes, as Vixie cron does (pure).

A schedule that speaks local time (cron, rrule, an interval of whole days in a time zone)
yields wall-clock times; each becomes zero, one or two instants:

- a wall time that exists once is that instant;
- a wall time that occurs twice (the clock falls back): a *fixed-time* schedule fires once,
  at the first of them; an *elapsed* schedule (cron hour field ``*`` or ``*/n``, an hourly
  or finer rrule without BYHOUR, an interval shorter than a day) fires at both, so it keeps
  its elapsed-time spacing: an hourly job runs at 01:00 EDT and at 01:00 EST, never twice in
  one elapsed hour;
- a wall time that does not exist (the clock springs forward): a fixed-time schedule fires
  once at the next valid instant (02:30 on a day that jumps 02:00 -> 03:00 fires at 03:00);
  an elapsed schedule skips it (its next time comes at its usual spacing).

Several wall times that land on one instant fire once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["MARGIN", "collect", "instants", "slack", "wall"]

MARGIN = timedelta(hours=3)
"""More than any daylight saving shift, less than the time between two of them."""
_STEP = timedelta(seconds=1)


def wall(moment: datetime, zone: tzinfo) -> datetime:
    """The naive local wall time of an aware `moment` in `zone`."""
    return moment.astimezone(zone).replace(tzinfo=None)


def instants(local: datetime, zone: tzinfo, *, elapsed: bool) -> list[datetime]:
    """The instants (aware UTC, oldest first) a naive wall time `local` in `zone` fires at:
    one, two (a repeated time of an elapsed schedule) or none (a skipped time of an elapsed
    schedule); see the module docstring."""
    early = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    late = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early == late:
        return [early]
    real = sorted(u for u in {early, late} if wall(u, zone) == local)
    if len(real) == 2:  # occurs twice
        return real if elapsed else real[:1]
    if real:
        return real
    return [] if elapsed else [_gap_end(min(early, late), max(early, late), zone)]


def _gap_end(low: datetime, high: datetime, zone: tzinfo) -> datetime:
    """The first instant after a skipped wall time: the instant of the change, to the
    second, found between two instants on either side of it."""
    after = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high


def slack(zone: tzinfo, moment: datetime) -> timedelta:
    """How far wall times near `moment` can be out of order with their instants: the size
    of a clock set back within `MARGIN` of it (zero almost always)."""
    before = (moment - MARGIN).astimezone(zone).utcoffset() or timedelta(0)
    after = (moment + MARGIN).astimezone(zone).utcoffset() or timedelta(0)
    return max(timedelta(0), before - after)


def collect(walls_from: Callable[[datetime], Iterable[datetime]], zone: tzinfo,
            after: datetime, until: datetime, limit: int, *, elapsed: bool) -> list[datetime]:
    """The instants in (after, until], oldest first, at most `limit`, aware in `after`'s
    time zone, of the naive wall times in `zone` that `walls_from(start)` yields
    (ascending, from the naive wall time `start` on)."""
    start = wall(after, zone) - slack(zone, after) - _STEP
    stop = wall(until, zone) + slack(zone, until)
    found: set[datetime] = set()
    for local in walls_from(start):
        if local > stop:
            break
        found.update(u for u in instants(local, zone, elapsed=elapsed) if after < u <= until)
        if len(found) >= limit:
            # instants come in wall order except around a clock set back: past the
            # limit-th one by that much, no later wall time comes before it
            kth = sorted(found)[limit - 1]
            if local > wall(kth, zone) + slack(zone, kth):
                break
    return [u.astimezone(after.tzinfo) for u in sorted(found)[:limit]]
