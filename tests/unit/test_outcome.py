"""The one outcome decision (tasks_core/engine/outcome.py): pure, time and randomness given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tasks_core.engine.outcome import Complete, Ended, Fail, Retry, decide, error_info, retry_delay
from tasks_core.errors import TaskTimeout
from tasks_core.records import RunOptions
from tasks_core.states import StateName
from tasks_core.task import task

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
BOOM = Ended.failure(ValueError("boom"), elapsed=0.1)


def _options(**task_options: Any) -> RunOptions:
    def work(x: int) -> int:
        return x

    return task(name="work", **task_options)(work).options


def test_list_of_delays_then_the_last_repeats() -> None:
    options = _options(retries=5, retry_delay_seconds=[1, 10, 100])
    assert [retry_delay(options, n) for n in range(1, 6)] == [1.0, 10.0, 100.0, 100.0, 100.0]


def test_single_delay_exponential_backoff_and_no_delay() -> None:
    from tasks_core import exponential_backoff

    assert [retry_delay(_options(retries=3, retry_delay_seconds=7), n) for n in (1, 2, 3)] == [
        7.0, 7.0, 7.0]
    backoff = _options(retries=3, retry_delay_seconds=exponential_backoff(2))
    assert [retry_delay(backoff, n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert retry_delay(_options(retries=2), 1) == 0.0


def test_none_when_attempts_are_exhausted() -> None:
    options = _options(retries=2, retry_delay_seconds=1)
    assert retry_delay(options, 2) == 1.0  # attempt 2 failed: one retry left
    assert retry_delay(options, 3) is None  # attempt 3 was the last (1 + 2 retries)
    assert retry_delay(_options(retries=0), 1) is None


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 4.0), (0.5, 5.0), (0.999, 5.998)])
def test_jitter_adds_up_to_the_factor_of_the_delay(draw: float, expected: float) -> None:
    options = _options(retries=1, retry_delay_seconds=4, retry_jitter_factor=0.5)
    assert retry_delay(options, 1, rng=lambda: draw) == pytest.approx(expected)


def test_zero_jitter_factor_is_no_jitter() -> None:
    options = _options(retries=1, retry_delay_seconds=3, retry_jitter_factor=0)
    assert retry_delay(options, 1, rng=lambda: 0.9) == 3.0


def test_success_completes_with_the_stored_result() -> None:
    ended = Ended(ok=True, value={"a": 1}, result_json='{"a":1}', elapsed=0.2)
    assert decide(_options(), 1, ended, NOW) == Complete('{"a":1}', {"a": 1}, "")


def test_failure_retries_at_now_plus_delay_then_fails() -> None:
    options = _options(retries=1, retry_delay_seconds=10, retry_jitter_factor=0.5)
    first = decide(options, 1, BOOM, NOW, rng=lambda: 0.5)
    assert isinstance(first, Retry)
    assert first.delay == 12.5
    assert first.when == NOW + timedelta(seconds=12.5)
    assert first.message.startswith("retrying in 12.5s after ValueError: boom")
    last = decide(options, 2, BOOM, NOW)
    assert isinstance(last, Fail)
    assert last.state is StateName.FAILED
    assert isinstance(last.exc, ValueError)


def test_a_failure_that_is_not_retryable_fails_at_once() -> None:
    ended = Ended.failure(ValueError("bad result"), retryable=False)
    assert isinstance(decide(_options(retries=5), 1, ended, NOW), Fail)


def test_an_interrupted_attempt_is_timed_out_and_retried_like_a_failure() -> None:
    ended = Ended.failure(TaskTimeout("timed out after 1s"), elapsed=1.0, timed_out=True)
    assert isinstance(decide(_options(retries=1, timeout_seconds=1), 1, ended, NOW), Retry)
    final = decide(_options(timeout_seconds=1), 1, ended, NOW)
    assert isinstance(final, Fail)
    assert final.state is StateName.TIMED_OUT


def test_a_timeout_raised_by_a_child_run_is_a_plain_failure() -> None:
    ended = Ended.failure(TaskTimeout("a task timed out"), elapsed=0.5)
    final = decide(_options(timeout_seconds=10), 1, ended, NOW)
    assert isinstance(final, Fail)
    assert final.state is StateName.FAILED


def test_an_attempt_that_returns_after_its_deadline_is_timed_out() -> None:
    late = Ended(ok=True, value=1, result_json="1", elapsed=4.0)
    final = decide(_options(timeout_seconds=1), 1, late, NOW)
    assert isinstance(final, Fail)
    assert final.state is StateName.TIMED_OUT
    assert isinstance(final.exc, TaskTimeout)
    assert "past its timeout of 1s" in final.error.message
    on_time = Ended(ok=True, value=1, result_json="1", elapsed=0.9)
    assert isinstance(decide(_options(timeout_seconds=1), 1, on_time, NOW), Complete)


def test_a_crash_is_retried_with_the_same_delays_and_jitter_else_crashed() -> None:
    options = _options(retries=1, retry_delay_seconds=2, retry_jitter_factor=1)
    crash = Ended.crash("process h:1 died during attempt 1")
    retry = decide(options, 1, crash, NOW, rng=lambda: 0.25)
    assert isinstance(retry, Retry)
    assert retry.delay == 2.5
    final = decide(options, 2, crash, NOW)
    assert isinstance(final, Fail)
    assert final.state is StateName.CRASHED
    assert final.error.message == "process h:1 died during attempt 1"


def test_may_retry_false_makes_every_failure_final() -> None:
    assert isinstance(decide(_options(retries=3), 1, BOOM, NOW, may_retry=False), Fail)


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


def test_error_info_of_an_unprintable_exception() -> None:
    info = error_info(Unprintable())
    assert info.type.endswith("Unprintable")
    assert "unprintable Unprintable" in info.message
    info.model_dump_json()  # recordable


def test_error_info_of_unencodable_text_is_recordable() -> None:
    info = error_info(ValueError("bad \udc80 byte"))
    assert "\udc80" not in info.message
    info.model_dump_json().encode("utf-8")


def test_error_info_caps_a_huge_message() -> None:
    info = error_info(ValueError("x" * 1_000_000))
    assert len(info.message) <= 20_000
    assert len(info.traceback) <= 20_000
