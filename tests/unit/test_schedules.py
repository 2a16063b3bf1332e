"""Due times and the scheduler's plan (pure, injected time)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from beat.scheduler import next_look, plan
from beat.schedules import due_times, next_time
from tasks_core.deployment_models import Deployment
from tasks_core.errors import ConfigurationError
from tasks_core.schedules import validate_schedules

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_cron_in_a_time_zone() -> None:
    times = due_times({"cron": "0 9 * * *", "timezone": "Europe/Paris"}, T0,
                      T0 + timedelta(days=2), 10)
    assert [t.hour for t in times] == [8, 8]  # 09:00 in Paris is 08:00 UTC in November


def test_interval_from_its_anchor() -> None:
    schedule = {"interval": 60.0, "anchor_date": (T0 - timedelta(seconds=30)).isoformat()}
    times = due_times(schedule, T0, T0 + timedelta(minutes=3), 10)
    assert times == [T0 + timedelta(seconds=30 + 60 * i) for i in range(3)]


def test_rrule() -> None:
    times = due_times({"rrule": "FREQ=HOURLY;INTERVAL=2", "timezone": "UTC",
                       "anchor_date": T0.isoformat()}, T0,
                      T0 + timedelta(hours=5), 10)
    assert len(times) == 2 and times[0] == T0 + timedelta(hours=2)


def _deployment(catchup: str) -> Deployment:
    return Deployment(name="d", flow_name="f", entrypoint="m:f", catchup=catchup,  # type: ignore[arg-type]
                      schedules=[{"interval": 60.0, "anchor_date": T0.isoformat()}])


def test_catchup_policies_after_an_outage() -> None:
    mark = T0  # beat last created up to T0, then was down for 10 minutes
    now = T0 + timedelta(minutes=10, seconds=30)
    horizon = timedelta(minutes=2)
    every = plan(_deployment("all"), mark, now, horizon, 100)
    assert len([t for t in every if t < now]) == 10
    latest = plan(_deployment("latest"), mark, now, horizon, 100)
    assert [t for t in latest if t < now] == [T0 + timedelta(minutes=10)]
    skip = plan(_deployment("skip"), mark, now, horizon, 100)
    assert all(t >= now for t in skip) and len(skip) == 2


def test_a_fresh_deployment_starts_now_and_respects_the_limit() -> None:
    times = plan(_deployment("latest"), None, T0, timedelta(hours=10), 5)
    assert len(times) == 5 and times[0] == T0 + timedelta(minutes=1)


def test_an_rrule_keeps_its_times_whenever_they_are_computed() -> None:
    schedule = {"rrule": "FREQ=HOURLY;INTERVAL=2", "timezone": "UTC",
                "anchor_date": T0.isoformat()}
    early = due_times(schedule, T0, T0 + timedelta(hours=9), 10)
    late = due_times(schedule, T0 + timedelta(minutes=37), T0 + timedelta(hours=9), 10)
    assert early == late == [T0 + timedelta(hours=h) for h in (2, 4, 6, 8)]
    assert next_time(schedule, T0 + timedelta(hours=3)) == T0 + timedelta(hours=4)


def test_next_time_of_each_kind() -> None:
    assert next_time({"cron": "*/15 * * * *", "timezone": "UTC"}, T0) == \
        T0 + timedelta(minutes=15)
    assert next_time({"interval": 90.0, "anchor_date": T0.isoformat()}, T0) == \
        T0 + timedelta(seconds=90)
    ended = {"rrule": "FREQ=DAILY;COUNT=2", "timezone": "UTC", "anchor_date": T0.isoformat()}
    assert next_time(ended, T0 + timedelta(days=3)) is None


def test_next_look_is_when_the_next_time_enters_the_horizon() -> None:
    deployment = _deployment("latest")
    horizon = timedelta(minutes=2)
    times = plan(deployment, None, T0, horizon, 100)
    assert times == [T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    look = next_look(deployment, times[-1], T0, horizon, 100)
    assert look == T0 + timedelta(minutes=3) - horizon  # 12:03 enters the horizon at 12:01


def test_next_look_with_the_limit_reached_is_the_first_run_ahead() -> None:
    deployment = _deployment("latest")
    times = plan(deployment, None, T0, timedelta(hours=10), 5)
    look = next_look(deployment, times[-1], T0, timedelta(hours=10), 5)
    assert look == T0 + timedelta(minutes=1)  # once it is due, a sixth one may be added


def test_next_look_of_ended_schedules_is_none() -> None:
    deployment = Deployment(name="d", flow_name="f", entrypoint="m:f", schedules=[
        {"rrule": "FREQ=DAILY;COUNT=1", "timezone": "UTC", "anchor_date": T0.isoformat()}])
    assert next_look(deployment, T0 + timedelta(days=1), T0, timedelta(hours=1), 10) is None


def test_validate_schedules_anchors_and_names_what_is_wrong() -> None:
    [interval, rrule] = validate_schedules(None, None, None, [
        {"interval": "30"}, {"rrule": "FREQ=DAILY"}])
    assert interval["interval"] == 30.0 and "anchor_date" in interval
    assert rrule["timezone"] == "UTC" and "anchor_date" in rrule
    cases = [
        ({"cron": "not a cron"}, "invalid cron"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"interval": -1}, "interval must be > 0"),
        ({"interval": "soon"}, "interval must be > 0"),
        ({"rrule": "FREQ=SOMETIMES"}, "invalid rrule"),
        ({"interval": 5, "anchor_date": "yesterday"}, "invalid anchor_date"),
        ({"interval": 5, "cron": "* * * * *"}, "exactly one of"),
        ({"interval": 5, "every": 3}, "unknown schedule field(s) every"),
    ]
    for schedule, message in cases:
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            validate_schedules(None, None, None, [schedule])
