"""Cancelling runs: queued, running (told to stop, or killed with force), flows with their
children, in process and on real workers, from Python, the CLI and Celery's revoke."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest

from tasks_core import CancelledRun, TaskCancelled, cancel_run, flow
from tasks_core.deployments import run_deployment
from tasks_core.proc import pid_alive
from tasks_core.process_runtime import get_runtime
from tasks_core.run_event_codec import entry_text
from tasks_core.states import StateName as S
from tests.helpers import ROOT, wait_until
from tests.integration import sample_flows as f
from tests.integration import sample_tasks as t


def _key() -> str:
    return uuid.uuid4().hex[:10]


def _get(name: str) -> str | None:
    rt = get_runtime()
    value = rt.client.get(f"{rt.settings.key_prefix}:{name}")
    return value.decode() if isinstance(value, bytes) else value


def _history(run_id: str) -> list[str]:
    return [entry.name.value for entry in get_runtime().store.get(run_id).history]


def _events(run_id: str) -> list[str]:
    rt = get_runtime()
    names = []
    for _, fields in rt.client.xrange(f"{rt.settings.key_prefix}:events"):
        event = json.loads(entry_text(fields) or "")
        if event["resource"]["tasks-core.resource.id"].endswith(run_id):
            names.append(event["event"])
    return names


def _cli(tc_env: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tasks_core.cli.main", *args], env=tc_env["env"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_queued_run_never_starts(tc_env: dict[str, Any], start_worker: Any) -> None:
    key = _key()
    future = t.spin.delay(key, 0)
    assert future.cancel() == S.CANCELLED
    start_worker(concurrency=1)
    later = t.add.delay(1, 2)  # behind it on the queue: once it ran, the cancelled one was seen
    assert later.result(timeout=20) == 3
    assert future.state == S.CANCELLED
    assert _get(f"started:{key}") is None
    with pytest.raises(CancelledRun):
        future.result(timeout=1)
    assert future.cancel() == S.CANCELLED  # again: nothing changes
    assert f"tasks-core.task-run.{S.CANCELLED.value}" in _events(future.id)


def test_a_running_task_is_told_to_stop_and_not_retried(tc_env: dict[str, Any],
                                                        start_worker: Any) -> None:
    start_worker(concurrency=1)
    key = _key()
    future = t.spin.delay(key, 60)
    wait_until(lambda: _get(f"started:{key}"), 20, 0.05, "the task to start")
    began = time.monotonic()
    assert future.revoke() == S.CANCELLING  # Celery's name for cancel
    assert future.wait(timeout=15) == S.CANCELLED
    assert time.monotonic() - began < 10
    assert _history(future.id)[-2:] == ["Cancelling", "Cancelled"]
    assert _get(f"test-counter:finished:{key}") is None
    assert get_runtime().store.get(future.id).attempt == 1  # retries=3, none used
    [hook] = wait_until(lambda: [c for c in t.hook_calls("spin") if c["id"] == future.id],
                        10, 0.05, "on_cancellation to be called")
    assert (hook["option"], hook["state"], hook["recorded"]) == (
        "on_cancellation", "Cancelled", "Cancelled")
    names = _events(future.id)
    assert names.index("tasks-core.task-run.Cancelling") < names.index(
        "tasks-core.task-run.Cancelled")
    assert t.add.delay(2, 2).result(timeout=20) == 4  # the worker goes on


def test_a_running_async_task_on_a_worker_is_cancelled_in_its_loop(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1)
    key = _key()
    future = t.await_long.delay(key, 60)
    wait_until(lambda: _get(f"started:{key}"), 20, 0.05, "the task to start")
    began = time.monotonic()
    assert future.cancel() == S.CANCELLING
    assert future.wait(timeout=15) == S.CANCELLED
    assert time.monotonic() - began < 10
    assert _get(f"test-counter:finished:{key}") is None
    [hook] = wait_until(lambda: [c for c in t.hook_calls("await_long") if c["id"] == future.id],
                        10, 0.05, "on_cancellation to be called")
    assert (hook["option"], hook["state"]) == ("on_cancellation", "Cancelled")
    assert t.add.delay(2, 2).result(timeout=20) == 4  # the worker goes on


def test_force_kills_a_task_blocked_in_c(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1)
    key = _key()
    future = t.block.delay(key, 120)
    pid = wait_until(lambda: _get(f"started:{key}"), 20, 0.05, "the task to start")
    result = _cli(tc_env, "task-run", "cancel", future.id, "--force")
    assert result.returncode == 0, result.stderr
    assert "Cancel" in result.stdout  # Cancelling, or Cancelled when the kill came first
    assert future.wait(timeout=20) == S.CANCELLED
    assert _get(f"test-counter:finished:{key}") is None
    wait_until(lambda: not pid_alive(int(str(pid))), 10, 0.1, "the worker child to be killed")
    assert t.add.delay(3, 3).result(timeout=30) == 6  # a new child took its place


def test_cancelling_a_flow_run_on_a_worker_cancels_its_children(tc_env: dict[str, Any],
                                                                start_worker: Any) -> None:
    start_worker(concurrency=2)
    f.spinning_family.deploy("d", work_pool_name=tc_env["queue"])
    key = _key()
    done: list[Any] = []
    waiter = threading.Thread(target=lambda: done.append(run_deployment(
        "spinning-family/d", parameters={"key": key}, timeout=60)))
    waiter.start()
    wait_until(lambda: _get(f"started:{key}-0") and _get(f"started:{key}-1"), 30, 0.05,
               "both children to start")
    rt = get_runtime()
    [flow_run_id] = [r for r in rt.store.list_ids("flow", limit=20)
                     if rt.store.get(r).name == "spinning-family"]
    result = _cli(tc_env, "flow-run", "cancel", flow_run_id)
    assert result.returncode == 0, result.stderr
    waiter.join(30)
    assert done and done[0].state == S.CANCELLED
    children = rt.store.get_many(rt.store.children(flow_run_id))
    assert len(children) == 2
    assert {c.state for c in children} == {S.CANCELLED}
    assert _get(f"started:{key}-after") is None
    assert _get(f"test-counter:finished:{key}-0") is None
    again = _cli(tc_env, "flow-run", "cancel", flow_run_id)
    assert again.returncode == 0 and "already ended" in again.stdout


def test_an_in_process_flow_is_cancelled_from_elsewhere(tc_env: dict[str, Any]) -> None:
    key = _key()
    started = threading.Event()
    raised: list[BaseException] = []

    @flow
    def local_spinner() -> str:
        started.set()
        return str(t.spin(key, 30))

    def call() -> None:
        try:
            local_spinner()
        except BaseException as exc:
            raised.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert started.wait(10)
    wait_until(lambda: _get(f"started:{key}"), 10, 0.02, "the task to start")
    rt = get_runtime()
    flow_id = wait_until(lambda: next((r for r in rt.store.list_ids("flow", limit=20)
                                       if rt.store.get(r).name == "local-spinner"), None),
                         10, 0.05, "the flow run to be recorded")
    assert cancel_run(flow_id) == S.CANCELLING
    caller.join(15)
    assert not caller.is_alive()
    assert raised and isinstance(raised[0], TaskCancelled)
    rt.reporter.flush(timeout=5)
    assert rt.store.get(flow_id).state == S.CANCELLED
    [child] = rt.store.get_many(rt.store.children(flow_id))
    assert child.state == S.CANCELLED


def test_celery_revoke_cancels_a_waiting_run(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1)
    key = _key()
    busy = t.spin.delay(key, 3)  # holds the only process
    wait_until(lambda: _get(f"started:{key}"), 20, 0.05, "the first task to start")
    waiting = t.add.delay(5, 5)
    get_runtime().app.control.revoke(waiting.id)
    assert waiting.wait(timeout=30) == S.CANCELLED
    assert busy.result(timeout=30) == key
    assert "revoked through Celery" in get_runtime().store.get(waiting.id).state_message


def test_cancel_unknown_run(tc_env: dict[str, Any]) -> None:
    result = _cli(tc_env, "task-run", "cancel", "no-such-run")
    assert result.returncode == 1
    assert "no-such-run" in result.stderr
