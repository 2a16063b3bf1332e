"""Retry decisions and result encoding of the task-run engine (tasks_core/engine/task_run.py)."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from tasks_core.engine.task_run import AttemptResult, encode_result, retry_delay
from tasks_core.errors import ResultError
from tasks_core.task import Task, task

FAILED = AttemptResult(ok=False)
NOT_RETRYABLE = AttemptResult(ok=False, retryable=False)


def work(x: int) -> int:
    return x


def _task(**options: Any) -> Task[Any, Any]:
    return task(name="work", **options)(work)


def test_list_of_delays_then_the_last_repeats() -> None:
    t = _task(retries=5, retry_delay_seconds=[1, 10, 100])
    assert [retry_delay(t, attempt, FAILED) for attempt in range(1, 6)] == [
        1.0, 10.0, 100.0, 100.0, 100.0]


def test_single_delay_applies_to_every_retry() -> None:
    t = _task(retries=3, retry_delay_seconds=7)
    assert [retry_delay(t, attempt, FAILED) for attempt in (1, 2, 3)] == [7.0, 7.0, 7.0]


def test_no_delay_given_means_retry_at_once() -> None:
    t = _task(retries=2)
    assert retry_delay(t, 1, FAILED) == 0.0


def test_exponential_backoff_delays() -> None:
    from tasks_core import exponential_backoff

    t = _task(retries=3, retry_delay_seconds=exponential_backoff(2))
    assert [retry_delay(t, attempt, FAILED) for attempt in (1, 2, 3)] == [2.0, 4.0, 8.0]


def test_none_when_attempts_are_exhausted() -> None:
    t = _task(retries=2, retry_delay_seconds=1)
    assert retry_delay(t, 2, FAILED) == 1.0  # attempt 2 failed: one retry left
    assert retry_delay(t, 3, FAILED) is None  # attempt 3 was the last (1 + 2 retries)
    assert retry_delay(_task(retries=0), 1, FAILED) is None


def test_none_when_the_failure_is_not_retryable() -> None:
    t = _task(retries=5, retry_delay_seconds=1)
    assert retry_delay(t, 1, NOT_RETRYABLE) is None


@pytest.mark.parametrize("base", [1.0, 10.0, 0.25])
def test_jitter_stays_within_bounds(base: float) -> None:
    t = _task(retries=3, retry_delay_seconds=base, retry_jitter_factor=0.5)
    random.seed(1234)
    delays = [retry_delay(t, 1, FAILED) or 0.0 for _ in range(500)]
    assert all(base <= d <= 1.5 * base for d in delays)
    assert len(set(delays)) > 1  # it does jitter
    assert max(delays) > 1.25 * base  # and uses the upper half of the range


def test_jitter_extremes(monkeypatch: pytest.MonkeyPatch) -> None:
    t = _task(retries=1, retry_delay_seconds=4, retry_jitter_factor=0.5)
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    assert retry_delay(t, 1, FAILED) == 6.0
    monkeypatch.setattr(random, "uniform", lambda low, high: low)
    assert retry_delay(t, 1, FAILED) == 4.0


def test_zero_jitter_factor_is_no_jitter() -> None:
    t = _task(retries=1, retry_delay_seconds=3, retry_jitter_factor=0)
    assert {retry_delay(t, 1, FAILED) for _ in range(20)} == {3.0}


# -- encode_result -------------------------------------------------------------------------------

def test_encode_result_is_compact_json() -> None:
    assert encode_result("work", {"a": [1, 2.5, None, True]}, 100) == '{"a":[1,2.5,null,true]}'
    assert encode_result("work", None, 100) == "null"


@pytest.mark.parametrize(("value", "type_name"),
                         [({1, 2}, "set"), (math.nan, "float"), (object(), "object"),
                          ({"k": b"raw"}, "dict")])
def test_encode_result_refuses_non_json(value: Any, type_name: str) -> None:
    with pytest.raises(ResultError) as info:
        encode_result("work", value, 1_000)
    message = str(info.value)
    assert "result of work" in message
    assert "not JSON-serialisable" in message
    assert type_name in message
    assert "return plain data" in message


def test_encode_result_enforces_max_bytes() -> None:
    value = ["x" * 50]
    size = len(json.dumps(value, separators=(",", ":")))
    assert encode_result("work", value, size)
    with pytest.raises(ResultError) as info:
        encode_result("work", value, size - 1)
    message = str(info.value)
    assert "result of work" in message
    assert f"{size} bytes" in message
    assert f"limit of {size - 1}" in message
    assert "TASKS_CORE_RESULT_MAX_BYTES" in message


def test_result_error_is_a_validation_error() -> None:
    from tasks_core.errors import TasksCoreError, ValidationError

    assert issubclass(ResultError, ValidationError)
    assert issubclass(ResultError, TasksCoreError)
