"""Celery's calling options checked without Redis (`tasks_core.engine.calling`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tasks_core.engine.calling import CallOptions, RetryPolicy, expires_at, with_retries
from tasks_core.errors import StoreUnavailable, ValidationError

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_expires_in_seconds_timedelta_and_datetimes() -> None:
    assert expires_at(30, NOW) == NOW + timedelta(seconds=30)
    assert expires_at(1.5, NOW) == NOW + timedelta(seconds=1.5)
    assert expires_at(timedelta(minutes=2), NOW) == NOW + timedelta(minutes=2)
    assert expires_at(datetime(2026, 1, 1, 13, 0), NOW) == datetime(2026, 1, 1, 13, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    aware = expires_at(datetime(2026, 1, 1, 15, 0, tzinfo=plus_two), NOW)
    assert aware == datetime(2026, 1, 1, 13, tzinfo=UTC) and aware.tzinfo == UTC


@pytest.mark.parametrize("bad", ["10", True, float("nan"), float("inf"), [1]])
def test_bad_expires_names_the_option(bad: object) -> None:
    with pytest.raises(ValidationError, match="expires"):
        expires_at(bad, NOW)


def test_options_checked_together() -> None:
    options = CallOptions.of(task_id="a-1", expires=10, headers={"k": "v"}, shadow="nick",
                             retry=False, retry_policy={"max_retries": 1}, now=NOW)
    assert options == CallOptions(task_id="a-1", expires=NOW + timedelta(seconds=10),
                                  headers={"k": "v"}, shadow="nick", retry=False,
                                  retry_policy=RetryPolicy(max_retries=1))
    assert CallOptions.of(now=NOW) == CallOptions()


@pytest.mark.parametrize(("given", "named"), [
    ({"task_id": "white space"}, "task_id"),
    ({"headers": {"x": object()}}, "headers must be JSON"),
    ({"headers": {1: "x"}}, "string keys"),
    ({"headers": {"task": "other"}}, "Celery's own"),
    ({"headers": {"big": "x" * 9000}}, "bytes of JSON"),
    ({"shadow": ""}, "shadow"),
    ({"retry": "yes"}, "retry must be"),
    ({"retry_policy": {"max_retires": 3}}, "unknown keys"),
    ({"retry_policy": {"interval_max": -1}}, ">= 0"),
])
def test_each_bad_option_is_one_clear_error(given: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        CallOptions.of(**given, now=NOW)


def test_retry_policy_delays_follow_celery() -> None:
    policy = RetryPolicy(max_retries=4, interval_start=0.5, interval_step=1, interval_max=2)
    assert [policy.delay(n) for n in range(4)] == [0.5, 1.5, 2, 2]
    assert [RetryPolicy().delay(n) for n in range(3)] == [0, 0.2, 0.2]


def test_publish_is_retried_on_a_lost_redis_then_gives_up() -> None:
    slept: list[float] = []
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StoreUnavailable("lost Redis")
        return "sent"

    assert with_retries(flaky, True, RetryPolicy(), slept.append) == "sent"
    assert slept == [0, 0.2]

    def down() -> str:
        raise StoreUnavailable("lost Redis")

    slept.clear()
    with pytest.raises(StoreUnavailable):
        with_retries(down, True, RetryPolicy(max_retries=2), slept.append)
    assert slept == [0, 0.2]
    with pytest.raises(StoreUnavailable):
        with_retries(down, False, RetryPolicy(), slept.append)
    assert slept == [0, 0.2]  # retry=False: no wait at all
