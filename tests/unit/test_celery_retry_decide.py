"""Celery's retry options and Prefect's retry_condition_fn in the one pure decision
(`outcome.decide`, `engine.retry_policy`), with injected time and randomness; and the
validation of Celery's decorator options (`task_options`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery.exceptions import Retry as CeleryRetry

from tasks_core.engine.limits import body_deadline, hard_limit
from tasks_core.engine.outcome import Ended, Fail, Retry, decide
from tasks_core.engine.request import RequestInfo, bound_callable, current_request
from tasks_core.errors import ConfigurationError
from tasks_core.records import RunOptions
from tasks_core.states import StateName
from tasks_core.task import Task, task

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _options(fn: Any = None, **options: Any) -> RunOptions:
    def body() -> None:
        return None

    made: Task[Any, Any] = task(**options)(fn or body)
    return made.options


def _fails(exc: BaseException, **kwargs: Any) -> Ended:
    return Ended.failure(exc, **kwargs)


def test_autoretry_for_retries_only_listed_types_max_retries_times() -> None:
    options = _options(autoretry_for=(ConnectionError,), default_retry_delay=5)
    assert options.retries == 3 and options.retry_delays == [5.0]
    retried = decide(options, 1, _fails(ConnectionRefusedError("x")), NOW)  # a subclass
    assert isinstance(retried, Retry) and retried.when == NOW + timedelta(seconds=5)
    other = decide(options, 1, _fails(KeyError("k")), NOW)
    assert isinstance(other, Fail) and other.state == StateName.FAILED
    last = decide(options, 4, _fails(ConnectionError("x")), NOW)
    assert isinstance(last, Fail)


def test_dont_autoretry_for_wins_over_autoretry_for_and_prefect_retries() -> None:
    options = _options(autoretry_for=(OSError,), dont_autoretry_for=(FileNotFoundError,))
    assert isinstance(decide(options, 1, _fails(FileNotFoundError()), NOW), Fail)
    assert isinstance(decide(options, 1, _fails(OSError()), NOW), Retry)
    prefect = _options(retries=2, dont_autoretry_for=(KeyError,))
    assert isinstance(decide(prefect, 1, _fails(KeyError()), NOW), Fail)
    assert isinstance(decide(prefect, 1, _fails(ValueError()), NOW), Retry)


def test_a_crash_is_not_filtered_by_exception_types() -> None:
    options = _options(autoretry_for=(ConnectionError,))
    assert isinstance(decide(options, 1, Ended.crash("process died"), NOW), Retry)


def test_backoff_doubles_caps_and_full_jitter() -> None:
    options = _options(autoretry_for=(ValueError,), retry_backoff=True, retry_jitter=False,
                       retry_backoff_max=5, max_retries=None)
    delays = [decide(options, n, _fails(ValueError()), NOW) for n in range(1, 6)]
    assert [d.delay for d in delays if isinstance(d, Retry)] == [1, 2, 4, 5, 5]
    assert options.retry_forever
    huge = decide(options, 10_000, _fails(ValueError()), NOW)  # forever: never overflows
    assert isinstance(huge, Retry) and huge.delay == 5
    jittered = _options(autoretry_for=(ValueError,), retry_backoff=3)
    assert jittered.retry_jitter  # Celery's default with a backoff
    found = decide(jittered, 3, _fails(ValueError()), NOW, rng=lambda: 0.25)
    assert isinstance(found, Retry) and found.delay == pytest.approx(0.25 * 12)


def test_max_retries_zero_and_retry_kwargs() -> None:
    options = _options(autoretry_for=(ValueError,), max_retries=0)
    assert isinstance(decide(options, 1, _fails(ValueError()), NOW), Fail)
    kwargs = _options(autoretry_for=(ValueError,),
                      retry_kwargs={"max_retries": 1, "countdown": 2})
    assert kwargs.retries == 1 and kwargs.retry_delays == [2.0]


def test_a_retry_the_body_asked_for_follows_its_countdown_or_eta() -> None:
    options = _options(default_retry_delay=7)
    at = decide(options, 1, _fails(ValueError("v"), retry_when=3.0), NOW)
    assert isinstance(at, Retry) and at.delay == 3.0 and at.error.type == "ValueError"
    eta = decide(options, 5, _fails(KeyError(), retry_when=NOW + timedelta(seconds=9)), NOW)
    assert isinstance(eta, Retry) and eta.delay == 9.0  # retries=0 does not stop it
    default = decide(options, 1, _fails(KeyError(), retry_when=-1.0), NOW)
    assert isinstance(default, Retry) and default.delay == 7.0
    final = decide(options, 1, _fails(KeyError(), retry_when=1.0), NOW, may_retry=False)
    assert isinstance(final, Fail)


def test_retry_condition_is_asked_only_when_a_retry_would_follow() -> None:
    options = _options(retries=2)
    asked: list[str] = []

    def condition(ended: Ended) -> bool:
        asked.append(type(ended.exc).__name__)
        return not isinstance(ended.exc, KeyError)

    assert isinstance(decide(options, 1, _fails(KeyError()), NOW, condition=condition), Fail)
    assert isinstance(decide(options, 1, _fails(ValueError()), NOW, condition=condition),
                      Retry)
    assert isinstance(decide(options, 3, _fails(ValueError()), NOW, condition=condition),
                      Fail)
    assert asked == ["KeyError", "ValueError"]


def test_time_limits_pick_the_body_deadline_and_the_hard_kill() -> None:
    assert body_deadline(RunOptions(soft_time_limit=2)) == (2, True)
    assert body_deadline(RunOptions(soft_time_limit=2, timeout_seconds=2)) == (2, False)
    assert body_deadline(RunOptions(soft_time_limit=1, timeout_seconds=2)) == (1, True)
    assert hard_limit(RunOptions(soft_time_limit=1, time_limit=3)) == 3
    assert hard_limit(RunOptions(timeout_seconds=10)) == 15
    assert hard_limit(RunOptions()) is None


def test_bound_callable_counts_attempts_and_sets_the_request() -> None:
    seen: list[Any] = []

    def fn(self: Any, x: int) -> int:
        request = current_request.get()
        seen.append((self, request.retries if request else None, request and request.args))
        return x

    info = RequestInfo("r1", "fn", "q", first_attempt=2)
    call = bound_callable(fn, "the task", info)
    assert call(1) == 1 and call(2) == 2
    assert seen == [("the task", 1, (1,)), ("the task", 2, (2,))]
    assert current_request.get() is None


@pytest.mark.parametrize(("options", "match"), [
    ({"serializer": "pickle"}, "serializer 'pickle' is not supported"),
    ({"acks_late": False}, "acks_late=False is not supported"),
    ({"reject_on_worker_lost": False}, "reject_on_worker_lost=False"),
    ({"autoretry_for": (42,)}, "autoretry_for must hold exception classes"),
    ({"max_retries": -1}, "max_retries must be an int >= 0 or None"),
    ({"retry_backoff": -2}, "retry_backoff must be a number"),
    ({"soft_time_limit": 0}, "soft_time_limit must be a number of seconds > 0"),
    ({"retry_kwargs": {"exc": 1}}, "retry_kwargs takes only"),
    ({"retry_condition_fn": 3}, "retry_condition_fn must be callable"),
    ({"base": int}, "base must be a subclass"),
])
def test_bad_celery_options_name_the_option(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        _options(**options)


def test_unknown_option_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="unknown option 'autoretry'"):
        _options(autoretry=(ValueError,))


def test_retry_raises_celerys_retry_inside_an_attempt_only() -> None:
    @task(bind=True, max_retries=1)
    def bound(self: Any) -> None:
        raise self.retry(countdown=2)

    with pytest.raises(RuntimeError, match="only for inside a running attempt"):
        bound.retry()
    token = current_request.set(RequestInfo("r", "bound", None).request(1, (), {}))
    try:
        with pytest.raises(CeleryRetry) as raised:
            bound.retry(countdown=2)
        assert raised.value.when == 2
        with pytest.raises(ConfigurationError, match="retry\\(args\\) is not supported"):
            bound.retry(args=(1,))
    finally:
        current_request.reset(token)
    assert list(bound.parameters.signature.parameters) == []


@pytest.mark.parametrize("in_thread", [False, True])
def test_a_soft_deadline_lets_the_body_clean_up_a_strict_one_does_not(in_thread: bool) -> None:
    import threading
    import time

    from celery.exceptions import SoftTimeLimitExceeded

    from tasks_core.engine.timeouts import deadline
    from tasks_core.errors import TaskTimeout

    def body(strict: bool) -> str:
        with deadline(0.2, strict=strict):
            try:
                time.sleep(2)
            except SoftTimeLimitExceeded:
                return "cleaned up"
        return "slept"

    results: list[Any] = []

    def both() -> None:
        results.append(body(False))
        try:
            results.append(body(True))
        except TaskTimeout as exc:
            results.append(type(exc).__name__)

    if in_thread:
        thread = threading.Thread(target=both)
        thread.start()
        thread.join(10)
    else:
        both()
    assert results == ["cleaned up", "TaskTimeout"]


def test_global_time_limits_apply_where_the_task_sets_none() -> None:
    from tasks_core.engine.limits import with_global_limits
    from tasks_core.settings import Settings

    settings = Settings(task_time_limit=30, task_soft_time_limit=20)
    assert with_global_limits(RunOptions(), settings) == RunOptions(time_limit=30,
                                                                    soft_time_limit=20)
    own = RunOptions(time_limit=5, timeout_seconds=3)
    assert with_global_limits(own, settings) is own  # the task's own limits win
    unset = RunOptions()
    assert with_global_limits(unset, Settings()) is unset


def test_a_naive_eta_is_read_as_utc() -> None:
    naive = datetime(2026, 1, 1, 0, 0, 4)
    found = decide(RunOptions(), 1, _fails(KeyError(), retry_when=naive), NOW)
    assert isinstance(found, Retry) and found.delay == 4.0
