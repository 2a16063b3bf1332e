"""Eager mode (Celery's task_always_eager) and Task.apply(): real Redis, no worker at all.

With no worker serving the test's queue, a run that reaches Completed can only have run in
the calling process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tasks_core import StateName, task
from tasks_core.eager import EagerResult
from tasks_core.errors import ParameterError
from tasks_core.process_runtime import get_runtime, reset_runtime
from tasks_core.run_event_codec import entry_text
from tasks_core.settings import reset_settings
from tests.helpers import wait_until

S = StateName
attempts: list[int] = []


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def boom(text: str) -> str:
    raise KeyError(text)


@task
async def async_double(n: int) -> int:
    return n * 2


@task(retries=2)
def flaky(n: int) -> int:
    attempts.append(n)
    if len(attempts) < 2:
        raise ConnectionError("first attempt fails")
    return n * 10


@pytest.fixture
def conf_flags() -> Iterator[Any]:
    """The runtime's Celery app's conf (`tasks_core.celery.Celery().conf`), with the eager
    flags put back afterwards."""
    conf = get_runtime().app.conf
    yield conf
    conf.task_always_eager = False
    conf.task_eager_propagates = False


@pytest.fixture
def eager_env(tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TASKS_CORE_ALWAYS_EAGER", "true")
    reset_settings()
    reset_runtime()
    return tc_env


def _events_of(tc_env: dict[str, Any], run_id: str) -> list[str]:
    raw = tc_env["client"].xrange(f"{tc_env['prefix']}:events")
    resource = f"tasks-core.task-run.{run_id}"
    return [e["event"] for e in (json.loads(entry_text(fields) or "") for _, fields in raw)
            if e["resource"]["tasks-core.resource.id"] == resource]


def test_setting_runs_delay_in_process_tracked(eager_env: dict[str, Any]) -> None:
    result = add.delay(2, 3)
    assert isinstance(result, EagerResult)
    assert result.ready() and result.successful() and result.status == "SUCCESS"
    assert result.get() == 5
    record = get_runtime().store.get(result.id)
    assert record.state == S.COMPLETED
    assert record.parameters == {"x": 2, "y": 3}
    assert [h.name for h in record.history][-1] == S.COMPLETED
    wait_until(lambda: "tasks-core.task-run.Completed" in _events_of(eager_env, result.id),
               timeout=5, message="the eager run's Completed event")


def test_conf_task_always_eager_runs_apply_async_ignoring_countdown_and_queue(
        tc_env: dict[str, Any], conf_flags: Any) -> None:
    conf_flags.task_always_eager = True
    result = add.apply_async((4,), {"y": 5}, countdown=30, queue="nobody-serves-this")
    assert result.get(timeout=1) == 9
    assert result.state == S.COMPLETED


def test_failure_is_kept_and_get_reraises_unless_propagate_false(
        eager_env: dict[str, Any]) -> None:
    result = boom.delay("gone")
    assert result.failed() and result.status == "FAILURE"
    with pytest.raises(KeyError, match="gone"):
        result.get()
    assert isinstance(result.get(propagate=False), KeyError)
    assert result.state == S.FAILED
    assert result.traceback and "KeyError" in result.traceback


def test_task_eager_propagates_raises_from_delay(eager_env: dict[str, Any],
                                                 conf_flags: Any) -> None:
    conf_flags.task_eager_propagates = True
    with pytest.raises(KeyError, match="loud"):
        boom.delay("loud")


def test_retries_run_in_process(eager_env: dict[str, Any]) -> None:
    attempts.clear()
    result = flaky.delay(7)
    assert result.get() == 70
    assert attempts == [7, 7]
    record = get_runtime().store.get(result.id)
    assert record.attempt == 2
    assert [h.name for h in record.history] == [S.RUNNING, S.AWAITING_RETRY, S.RETRYING,
                                                 S.COMPLETED]


def test_apply_runs_locally_without_eager_mode(tc_env: dict[str, Any]) -> None:
    result = add.apply((1, 1), task_id="my-own-id")
    assert result.id == "my-own-id"
    assert result.get() == 2
    assert get_runtime().store.get("my-own-id").state == S.COMPLETED
    with pytest.raises(KeyError):
        boom.apply(("thrown",), throw=True)


def test_bad_arguments_raise_before_a_run_exists(eager_env: dict[str, Any]) -> None:
    with pytest.raises(ParameterError):
        add.delay(1)  # type: ignore[call-arg]
    keys = [k for k in eager_env["client"].scan_iter(f"{eager_env['prefix']}:run:*")]
    assert keys == []


def test_async_task_runs_eagerly_outside_an_event_loop(eager_env: dict[str, Any]) -> None:
    result = async_double.delay(21)
    assert result.get() == 42
    assert result.state == S.COMPLETED


def test_async_task_inside_a_running_loop_is_refused_before_a_run(
        eager_env: dict[str, Any]) -> None:
    import asyncio

    from tasks_core.errors import ConfigurationError

    async def inside() -> None:
        with pytest.raises(ConfigurationError, match="await the task directly"):
            async_double.delay(1)

    asyncio.run(inside())
