"""Celery's crontab(...) -> cron strings (tasks_core/periodic/crontab.py): pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from celery.schedules import crontab
from croniter import croniter

from tasks_core.errors import ConfigurationError
from tasks_core.periodic.crontab import cron_string, is_crontab


@pytest.mark.parametrize(("spec", "expected"), [
    (crontab(), "* * * * *"),
    (crontab(minute="*/5"), "*/5 * * * *"),
    (crontab(minute=0, hour=0), "0 0 * * *"),
    (crontab(minute=0, hour="*/3"), "0 */3 * * *"),
    (crontab(minute="*/15", hour="9-17", day_of_week="mon-fri"), "*/15 9-17 * * 1-5"),
    (crontab(minute=30, hour="0,12", day_of_week="sun"), "30 0,12 * * 0"),
    (crontab(minute=0, hour=7, day_of_month="1,15", month_of_year="*/3"), "0 7 1,15 */3 *"),
    (crontab(minute="5,10-12", hour=4), "5,10-12 4 * * *"),
    (crontab(minute=0, hour=0, day_of_month="2-30/2"), "0 0 2,4,6,8,10,12,14,16,18,20,22,24,"
     "26,28,30 * *"),
])
def test_crontab_becomes_a_cron_string(spec: crontab, expected: str) -> None:
    assert cron_string(spec) == expected
    assert croniter.is_valid(expected)


def test_the_string_fires_when_celery_would() -> None:
    spec = crontab(minute="*/20", hour="8-9", day_of_week="tue")
    start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    times = croniter(cron_string(spec), start)
    fired = [times.get_next(datetime) for _ in range(7)]
    assert [(t.weekday(), t.hour, t.minute) for t in fired] == [
        (1, 8, 0), (1, 8, 20), (1, 8, 40), (1, 9, 0), (1, 9, 20), (1, 9, 40), (1, 8, 0)]
    assert all(t.minute in spec.minute and t.hour in spec.hour for t in fired)


def test_cron_strings_pass_through() -> None:
    assert cron_string("*/10 * * * *") == "*/10 * * * *"
    assert is_crontab(crontab()) and not is_crontab("* * * * *")


def test_day_of_month_and_day_of_week_together_are_refused() -> None:
    with pytest.raises(ConfigurationError,
                       match=r"both day_of_month \(1-7\) and day_of_week \(1\)"):
        cron_string(crontab(minute=0, hour=0, day_of_month="1-7", day_of_week="mon"))


def test_other_values_are_refused_naming_the_type() -> None:
    with pytest.raises(ConfigurationError, match="int 5"):
        cron_string(5)
