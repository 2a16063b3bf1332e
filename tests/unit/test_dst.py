"""Schedules across daylight saving changes follow Vixie cron (beat.localtime), in zones
of both hemispheres, with injected times (no clock, no Redis)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from beat.schedules import due_times, next_time

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago"]
NY = zoneinfo.ZoneInfo("America/New_York")


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%m-%d %H:%M %Z")


def _day(zone: str, when: datetime, cron: str) -> list[str]:
    """The local times of `cron` over 48 hours from `when` (UTC)."""
    return [_local(t, zone) for t in
            due_times({"cron": cron, "timezone": zone}, when, when + timedelta(hours=48), 100)]


@cache
def _changes(zone: str) -> list[datetime]:
    """The instants (UTC, to the hour) where `zone`'s offset changes, 2023 to 2027."""
    tz = zoneinfo.ZoneInfo(zone)
    moment = datetime(2023, 1, 1, tzinfo=UTC)
    found = []
    offset = moment.astimezone(tz).utcoffset()
    while moment.year < 2028:
        moment += timedelta(hours=1)
        if (now := moment.astimezone(tz).utcoffset()) != offset:
            found.append(moment)
            offset = now
    assert len(found) >= 8, zone
    return found


def test_the_issue_example_a_daily_cron_runs_once_when_dst_ends() -> None:
    schedule = {"cron": "30 1 * * *", "timezone": "America/New_York"}
    start = datetime(2024, 11, 2, 12, tzinfo=UTC)
    times = due_times(schedule, start, start + timedelta(days=2), 10)
    assert [_local(t, "America/New_York") for t in times] == \
        ["11-03 01:30 EDT", "11-04 01:30 EST"]  # not also 11-03 01:30 EST


def test_a_fixed_time_that_does_not_exist_fires_once_at_the_next_valid_instant() -> None:
    start = datetime(2024, 3, 9, 12, tzinfo=UTC)  # New York springs 02:00 EST -> 03:00 EDT
    assert _day("America/New_York", start, "30 2 * * *") == ["03-10 03:00 EDT",
                                                              "03-11 02:30 EDT"]
    # several skipped times land on one instant: it fires once
    assert _day("America/New_York", start, "*/20 2 * * *")[:2] == ["03-10 03:00 EDT",
                                                                   "03-11 02:00 EDT"]


def test_an_hourly_job_runs_at_both_repeated_hours_and_never_twice_in_an_hour() -> None:
    start = datetime(2024, 10, 26, 22, tzinfo=UTC)  # Berlin falls 03:00 CEST -> 02:00 CET
    times = due_times({"cron": "0 * * * *", "timezone": "Europe/Berlin"}, start,
                      start + timedelta(hours=8), 100)
    labels = [_local(t, "Europe/Berlin") for t in times]
    assert "10-27 02:00 CEST" in labels and "10-27 02:00 CET" in labels
    assert {b - a for a, b in pairwise(times)} == {timedelta(hours=1)}
    spring = datetime(2024, 3, 30, 22, tzinfo=UTC)  # 02:00 CET -> 03:00 CEST: no 02:00
    labels = _day("Europe/Berlin", spring, "0 * * * *")[:5]
    assert labels == ["03-31 00:00 CET", "03-31 01:00 CET", "03-31 03:00 CEST",
                      "03-31 04:00 CEST", "03-31 05:00 CEST"]


def test_a_step_hour_field_keeps_elapsed_spacing() -> None:
    start = datetime(2024, 3, 9, 12, tzinfo=UTC)
    # 02:00 does not exist: an elapsed schedule skips it (Vixie), no extra run at 03:00
    assert "03-10 03:00 EDT" not in _day("America/New_York", start, "0 */2 * * *")


def test_rrule_and_whole_day_intervals_follow_the_same_rule() -> None:
    fall = datetime(2024, 11, 2, 12, tzinfo=UTC)
    daily = {"rrule": "FREQ=DAILY", "timezone": "America/New_York",
             "anchor_date": datetime(2024, 1, 1, 1, 30, tzinfo=NY).isoformat()}
    assert [_local(t, "America/New_York") for t in due_times(daily, fall, fall +
            timedelta(days=2), 10)] == ["11-03 01:30 EDT", "11-04 01:30 EST"]
    hourly = {**daily, "rrule": "FREQ=HOURLY"}
    labels = [_local(t, "America/New_York") for t in
              due_times(hourly, fall, fall + timedelta(days=1), 100)]
    assert "11-03 01:30 EDT" in labels and "11-03 01:30 EST" in labels
    own_start = {"rrule": "DTSTART;TZID=America/New_York:20240101T013000\nRRULE:FREQ=DAILY",
                 "timezone": "UTC", "anchor_date": datetime(2024, 1, 1, tzinfo=UTC).isoformat()}
    assert [_local(t, "America/New_York") for t in due_times(own_start, fall, fall +
            timedelta(days=2), 10)] == ["11-03 01:30 EDT", "11-04 01:30 EST"]
    spring = datetime(2024, 3, 9, 12, tzinfo=UTC)
    every_day = {"interval": 86400.0, "timezone": "America/New_York",
                 "anchor_date": datetime(2024, 1, 1, 2, 30, tzinfo=NY).isoformat()}
    assert [_local(t, "America/New_York") for t in due_times(
        every_day, spring, spring + timedelta(days=2), 10)] == ["03-10 03:00 EDT",
                                                                "03-11 02:30 EDT"]
    assert [_local(t, "America/New_York") for t in due_times(
        every_day, fall, fall + timedelta(days=2), 10)] == ["11-03 02:30 EST",
                                                            "11-04 02:30 EST"]


# Property tests: a window around every offset change of several zones.

_window = st.sampled_from(ZONES).flatmap(
    lambda zone: st.tuples(st.just(zone), st.sampled_from(_changes(zone)),
                           st.integers(min_value=-36 * 60, max_value=12 * 60)))


@settings(max_examples=150, deadline=None)
@given(window=_window, hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 59]))
def test_a_fixed_daily_time_fires_once_per_local_day(window: tuple[str, datetime, int],
                                                     hour: int, minute: int) -> None:
    zone, change, shift = window
    tz = zoneinfo.ZoneInfo(zone)
    start = change + timedelta(minutes=shift)
    times = due_times({"cron": f"{minute} {hour} * * *", "timezone": zone}, start,
                      start + timedelta(hours=72), 100)
    days = [t.astimezone(tz).date() for t in times]
    assert len(days) == len(set(days)), times  # never twice on one local day
    assert len(times) in (2, 3, 4)
    for t in times:
        local = t.astimezone(tz)
        if (local.hour, local.minute) != (hour, minute):  # only when that time did not exist
            wanted = datetime(local.year, local.month, local.day, hour, minute)
            real = wanted.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
            assert real.replace(tzinfo=None) != wanted  # it fell in the gap
            assert (t - timedelta(seconds=1)).astimezone(tz).utcoffset() != local.utcoffset()


@settings(max_examples=150, deadline=None)
@given(window=_window, minute=st.integers(0, 59), step=st.sampled_from([1, 2, 3]))
def test_an_elapsed_schedule_never_runs_twice_within_its_step(
        window: tuple[str, datetime, int], minute: int, step: int) -> None:
    zone, change, shift = window
    start = change + timedelta(minutes=shift)
    expr = f"{minute} */{step} * * *" if step > 1 else f"{minute} * * * *"
    times = due_times({"cron": expr, "timezone": zone}, start, start + timedelta(hours=48),
                      1000)
    gaps = [b - a for a, b in pairwise(times)]
    assert gaps and min(gaps) >= timedelta(hours=1)
    # a time in the skipped hour is skipped (Vixie): the next comes at the usual spacing
    assert max(gaps) <= timedelta(hours=2 * step - 1 if step > 1 else 1)
    if step == 1:
        assert set(gaps) == {timedelta(hours=1)}  # hourly: exactly an elapsed hour apart


@settings(max_examples=100, deadline=None)
@given(window=_window, expr=st.sampled_from(["30 1 * * *", "0 2 * * *", "*/20 * * * *",
                                             "15 */3 * * *", "0 0 * * *", "45 23 * * 0"]),
       split=st.integers(1, 47 * 60))
def test_times_do_not_depend_on_how_the_window_is_cut(
        window: tuple[str, datetime, int], expr: str, split: int) -> None:
    zone, change, shift = window
    schedule = {"cron": expr, "timezone": zone}
    start = change + timedelta(minutes=shift)
    end = start + timedelta(hours=48)
    middle = start + timedelta(minutes=split)
    whole = due_times(schedule, start, end, 10_000)
    assert whole == sorted(set(whole))
    assert whole == due_times(schedule, start, middle, 10_000) + \
        due_times(schedule, middle, end, 10_000)
    if whole:
        assert next_time(schedule, start) == whole[0]
        assert due_times(schedule, start, end, 1) == whole[:1]
