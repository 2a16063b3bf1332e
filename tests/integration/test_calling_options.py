"""Celery's calling options on a real Redis and real workers: task_id, expires, headers,
shadow, and send_task by name (issue 14, item 6)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import tasks_core
from tasks_core import StateName
from tasks_core.errors import ParameterError, TaskNotFound, ValidationError
from tasks_core.process_runtime import get_runtime
from tasks_core.store.keys import Keys
from tests.helpers import run_cli, wait_until
from tests.integration import calling_tasks as c

S = StateName
WITH_REMOTE = ("tests.integration.calling_tasks", "tests.integration.remote_tasks")


def _messages(tc_env: dict[str, Any], queue: str) -> list[dict[str, Any]]:
    key = Keys(tc_env["prefix"]).broker_queue(queue)
    return [json.loads(raw) for raw in tc_env["client"].lrange(key, 0, -1)]


def test_task_id_is_the_run_id_and_an_idempotency_key(tc_env: dict[str, Any],
                                                      start_worker: Any) -> None:
    first = c.mul.apply_async((6, 7), task_id="order-42")
    again = c.mul.apply_async((1, 1), task_id="order-42")
    assert first.id == again.id == "order-42"
    assert len(_messages(tc_env, tc_env["queue"])) == 1  # the duplicate sent nothing
    start_worker(imports=WITH_REMOTE)
    assert again.get(timeout=20) == 42
    record = get_runtime().store.get("order-42")
    assert record.parameters == {"x": 6, "y": 7}
    assert [h.name for h in record.history] == [S.PENDING, S.RUNNING, S.COMPLETED]


@pytest.mark.parametrize("bad", ["has space", "", "x" * 201, "-leading", 42])
def test_a_malformed_task_id_is_refused_before_anything_is_written(
        tc_env: dict[str, Any], bad: Any) -> None:
    with pytest.raises(ValidationError, match="task_id"):
        c.mul.apply_async((1, 2), task_id=bad)
    assert _messages(tc_env, tc_env["queue"]) == []


def test_expired_run_is_cancelled_by_the_claim_and_the_others_run(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    soon = c.echo.apply_async(("late",), expires=0.3)
    by_time = c.echo.apply_async(("late too",),
                                 expires=datetime.now(UTC) + timedelta(seconds=0.3))
    later = c.echo.apply_async(("in time",), expires=timedelta(minutes=5))
    time.sleep(0.5)
    start_worker(imports=WITH_REMOTE)
    assert later.get(timeout=20) == "in time"
    for future in (soon, by_time):
        assert future.wait(timeout=20) == S.CANCELLED
        record = future.record()
        assert record.state_message == "expired"
        assert record.start_time is None  # never started
        assert record.error is not None and record.error.type == "Expired"
    assert later.record().expires is not None


def test_a_queued_run_nobody_claims_expires_by_the_sweeper(
        tc_env: dict[str, Any], start_beat: Any) -> None:
    future = c.echo.apply_async(("never",), queue="nobody-serves-this", expires=0.5)
    start_beat()
    assert future.wait(timeout=20) == S.CANCELLED
    assert future.record().state_message == "expired"


def test_bad_expires_is_refused(tc_env: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="expires"):
        c.echo.apply_async(("x",), expires="tomorrow")  # type: ignore[arg-type]


def test_headers_and_shadow_are_recorded_and_sent(tc_env: dict[str, Any],
                                                 start_worker: Any) -> None:
    future = c.echo.apply_async(("hi",), headers={"tenant": "acme", "trace": [1, 2]},
                                shadow="echo-for-acme")
    record = future.record()
    assert record.headers == {"tenant": "acme", "trace": [1, 2]}
    assert record.shadow == "echo-for-acme"
    (message,) = _messages(tc_env, tc_env["queue"])
    assert message["headers"]["tenant"] == "acme"
    assert message["headers"]["trace"] == [1, 2]
    assert message["headers"]["shadow"] == "echo-for-acme"
    assert message["headers"]["id"] == future.id  # Celery's own headers are kept
    body = json.loads(base64.b64decode(message["body"]))
    assert body[0] == [future.id, 1]
    shown = run_cli(tc_env["env"], "task-run", "inspect", future.id)
    assert shown.returncode == 0, shown.stderr
    assert "Headers" in shown.stdout and '"tenant": "acme"' in shown.stdout
    assert "Shadow" in shown.stdout and "echo-for-acme" in shown.stdout
    worker = start_worker(imports=WITH_REMOTE)
    assert future.get(timeout=20) == "hi"
    wait_until(lambda: "echo-for-acme" in worker.output(), 10, 0.1, "the shadow name logged")


def test_celery_headers_cannot_be_replaced(tc_env: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Celery's own"):
        c.echo.apply_async(("x",), headers={"id": "mine"})


def test_send_task_reaches_a_task_known_only_by_name(tc_env: dict[str, Any],
                                                     start_worker: Any) -> None:
    start_worker(imports=WITH_REMOTE)
    by_name = tasks_core.send_task("proj.remote_mul", (6, 7))
    by_default_name = tasks_core.send_task("tests.integration.remote_tasks.power",
                                           kwargs={"base": 3, "exp": 3})
    local = tasks_core.send_task("proj.mul", [2, 5], task_id="local-mul")
    assert by_name.get(timeout=20) == 42
    assert by_default_name.get(timeout=20) == 27
    assert local.get(timeout=20) == 10 and local.id == "local-mul"
    record = by_name.record()
    assert record.name == "proj.remote_mul" and record.task_key == "proj.remote_mul"


def test_the_celery_apps_send_task_gives_an_async_result_for_a_task_known_by_name_only(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    """A Celery user's trial: through ``app.send_task`` a task this process has not imported
    came back as a bare TaskFuture (``.status``, ``.info``, ``.traceback`` missing)."""
    from tasks_core.async_result import AsyncResult
    from tasks_core.celery import Celery

    start_worker(imports=WITH_REMOTE)
    sent = Celery("trial").send_task("proj.remote_mul", (6, 7))
    assert isinstance(sent, AsyncResult)
    assert sent.get(timeout=20) == 42
    assert (sent.status, sent.info, sent.traceback) == ("SUCCESS", 42, None)


def test_send_task_to_an_unknown_name_fails_the_run_clearly(tc_env: dict[str, Any],
                                                            start_worker: Any) -> None:
    start_worker(imports=WITH_REMOTE)
    future = tasks_core.send_task("proj.nothing_here", (1,))
    with pytest.raises(TaskNotFound, match="no task is registered under the name"):
        future.get(timeout=20)
    assert future.state == S.FAILED
    bad_args = tasks_core.send_task("proj.remote_mul", (1, 2, 3))
    with pytest.raises(ParameterError, match="remote_mul"):
        bad_args.get(timeout=20)
    assert bad_args.state == S.FAILED and bad_args.record().attempt == 1  # not retried


def test_send_task_refuses_options_it_does_not_take(tc_env: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="unknown options \\['exchange'\\]"):
        tasks_core.send_task("proj.mul", (1, 2), exchange="x")
    with pytest.raises(ValidationError, match="task name"):
        tasks_core.send_task("has space", ())
