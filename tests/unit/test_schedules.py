"""Due times and the scheduler's plan (pure, injected time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from beat.scheduler import plan
from beat.schedules import due_times
from tasks_core.deployment_models import Deployment

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
    times = due_times({"rrule": "FREQ=HOURLY;INTERVAL=2", "timezone": "UTC"}, T0,
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
