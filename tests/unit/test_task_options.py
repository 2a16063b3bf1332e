"""`@task` options (tasks_core/task.py) are validated when the decorator runs."""

from __future__ import annotations

import math
import socket
import sys
from typing import Any

import pytest

from tasks_core.errors import ConfigurationError
from tasks_core.task import Task, exponential_backoff, task, task_key


@pytest.fixture(autouse=True)
def no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decorating must not build the runtime nor open a connection."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("decorating a task touched the runtime or the network")

    monkeypatch.setattr("tasks_core.process_runtime.get_runtime", refuse)
    # `tasks_core.task` as a dotted name is the decorator (re-exported), so use the module
    monkeypatch.setattr(sys.modules["tasks_core.task"], "get_runtime", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def add(x: int, y: int) -> int:
    return x + y


class Holder:
    @staticmethod
    def method(x: int) -> int:
        return x


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"retries": -1}, "retries must be >= 0"),
        ({"retries": 2, "retry_delay_seconds": -1}, "retry_delay_seconds must be >= 0"),
        ({"retries": 2, "retry_delay_seconds": [1, -2]}, "retry_delay_seconds must be >= 0"),
        ({"retries": 2, "retry_delay_seconds": math.nan}, "retry_delay_seconds must be >= 0"),
        ({"retry_jitter_factor": -0.1}, "retry_jitter_factor must be >= 0"),
        ({"priority": -1}, "priority must be 0..9"),
        ({"priority": 10}, "priority must be 0..9"),
        ({"timeout_seconds": 0}, "timeout_seconds must be > 0"),
        ({"timeout_seconds": -5}, "timeout_seconds must be > 0"),
    ],
)
def test_bad_options_raise_at_decoration_naming_the_task(
    options: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        task(name="my-task", **options)(add)
    assert fragment in str(info.value)
    assert "my-task" in str(info.value)


def test_bad_options_name_the_function_when_no_name_is_given() -> None:
    with pytest.raises(ConfigurationError, match="add"):
        task(retries=-1)(add)


def test_task_needs_a_callable() -> None:
    with pytest.raises(ConfigurationError, match="needs a function"):
        Task(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("retries", "value", "expected"),
    [
        (0, 0, [0.0]),
        (3, 5, [5.0]),
        (3, 2.5, [2.5]),
        (3, [1, 10, 100], [1.0, 10.0, 100.0]),
        (3, (1, 2), [1.0, 2.0]),
        (3, exponential_backoff(2), [2.0, 4.0, 8.0]),
        (4, exponential_backoff(0.5), [0.5, 1.0, 2.0, 4.0]),
        (0, exponential_backoff(2), []),
    ],
)
def test_retry_delay_seconds_becomes_retry_delays(retries: int, value: Any,
                                                  expected: list[float]) -> None:
    decorated = task(retries=retries, retry_delay_seconds=value)(add)
    assert decorated.retry_delays == expected
    assert all(isinstance(delay, float) for delay in decorated.retry_delays)


def test_exponential_backoff_refuses_a_negative_factor() -> None:
    with pytest.raises(ConfigurationError, match="backoff_factor"):
        exponential_backoff(-1)


def test_task_key_is_module_and_qualname() -> None:
    assert task(add).key == f"{__name__}:add"
    assert task(Holder.method).key == f"{__name__}:Holder.method"
    assert task_key(add) == "tests.unit.test_task_options:add"


def test_task_key_of_a_local_function_keeps_its_qualname() -> None:
    def local(x: int) -> int:
        return x

    assert task(local).key == f"{__name__}:{local.__qualname__}"
    assert "<locals>" in task(local).key


def test_options_are_kept() -> None:
    decorated = task(name="sum", description="adds", retries=2, retry_delay_seconds=[1, 2],
                     retry_jitter_factor=0.5, timeout_seconds=30, tags=["b", "a", "b"],
                     queue="io", priority=7)(add)
    assert decorated.name == "sum"
    assert decorated.description == "adds"
    assert decorated.retries == 2
    assert decorated.retry_jitter_factor == 0.5
    assert decorated.timeout_seconds == 30
    assert decorated.tags == ["a", "b"]
    assert decorated.queue == "io"
    assert decorated.priority == 7
    assert decorated.hard_time_limit is not None and decorated.hard_time_limit > 30
    assert getattr(decorated, "__name__", None) == "add"  # functools.update_wrapper


def test_bare_decorator_uses_defaults() -> None:
    decorated = task(add)
    assert isinstance(decorated, Task)
    assert decorated.name == "add"
    assert decorated.retries == 0
    assert decorated.timeout_seconds is None
    assert decorated.hard_time_limit is None
    assert decorated.priority == 0
    assert decorated.is_async is False


def test_async_functions_are_detected() -> None:
    async def fetch() -> int:
        return 1

    assert task(fetch).is_async is True
