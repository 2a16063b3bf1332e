"""Celery's own view of runs agrees with the ledger: Flower's API and metrics, and the
task signals a worker's code receives (real worker, real Flower)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tasks_core.deployments import run_deployment
from tasks_core.engine.celery_view import watch_runs
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName as S
from tests.helpers import ROOT, Worker, free_port, wait_until
from tests.integration import sample_flows as f
from tests.integration import sample_tasks as t

AUTH = {"Authorization": "Basic " + base64.b64encode(b"tc:secret").decode()}


class Flower:
    """A real `tasks-core flower` process and its HTTP API; `worker` and `queue` are the
    worker it watches and that worker's queue."""

    worker: Any = None
    queue = ""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tasks_core.cli.main", "flower", "--port", str(self.port),
             "--basic-auth", "tc:secret"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def get(self, path: str) -> str:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=AUTH)
        try:
            with urllib.request.urlopen(request, timeout=3) as reply:
                return str(reply.read().decode())
        except OSError:
            return ""

    def tasks(self) -> dict[str, Any]:
        text = self.get("/api/tasks")
        return dict(json.loads(text)) if text else {}

    def task(self, task_id: str) -> dict[str, Any]:
        return dict(self.tasks().get(task_id) or {})

    def metric(self, task: str, event: str) -> float:
        """flower_events_total for one task name and event type (0 when absent)."""
        total = 0.0
        for line in self.get("/metrics").splitlines():
            if (line.startswith("flower_events_total{") and f'task="{task}"' in line
                    and f'type="{event}"' in line):
                total += float(line.rsplit(" ", 1)[1])
        return total


@pytest.fixture(scope="module")
def flower(module_env: dict[str, Any]) -> Iterator[Flower]:
    """A worker (events off until Flower turns them on) and a Flower that sees its runs, on
    the module's key prefix and queue: shared by this module's tests (each looks at its own
    runs), since starting the two and waiting for Flower to see a run takes about 15 s."""
    worker = Worker(module_env["env"], module_env["queue"], concurrency=2)
    try:
        worker.wait_ready(module_env["client"], module_env["prefix"])
    except BaseException:
        worker.stop()
        raise
    monitor = Flower(module_env["env"])
    monitor.worker = worker
    monitor.queue = module_env["queue"]
    try:
        def sees_a_run() -> bool:
            future = t.outer.delay(1)  # calls add inside: a run shown by the worker
            future.result(timeout=20)
            [inner] = wait_until(lambda: get_runtime().store.children(future.id), 10, 0.05,
                                 "the inner run to be recorded")
            try:  # its events reach Flower a little later (lost if sent before it listened)
                wait_until(lambda: all(monitor.task(i).get("state") == "SUCCESS"
                                       for i in (future.id, inner)), 5, 0.2)
            except AssertionError:
                return False
            return True

        wait_until(sees_a_run, 90, 0.5, "Flower to see a run and the run inside it succeed")
        yield monitor
    finally:
        monitor.proc.terminate()
        monitor.proc.wait(15)
        worker.stop()


def _signals() -> dict[str, str]:
    rt = get_runtime()
    raw = rt.client.hgetall(f"{rt.settings.key_prefix}:test-signals")
    return {k.decode() if isinstance(k, bytes) else str(k):
            v.decode() if isinstance(v, bytes) else str(v) for k, v in raw.items()}


def test_a_failed_run_is_a_failed_celery_task(flower: Flower) -> None:
    future = t.divide.delay(1, 0)
    with pytest.raises(ZeroDivisionError):
        future.result(timeout=20)
    assert future.state == S.FAILED
    task = wait_until(lambda: flower.task(future.id).get("state") == "FAILURE"
                      and flower.task(future.id), 20, 0.2, "Flower to show FAILURE")
    assert "ZeroDivisionError" in task["exception"]
    assert "ZeroDivisionError" in task["traceback"]
    assert task["name"] == "divide"
    wait_until(lambda: flower.metric("divide", "task-failed") >= 1, 20, 0.2,
               "Flower's /metrics to count task-failed")
    assert flower.metric("divide", "task-succeeded") == 0
    assert "ZeroDivisionError" in _signals()[f"{future.id}:failure"]
    log = flower.worker.output()
    assert f"Task divide[{future.id}] raised unexpected: ZeroDivisionError" in log
    assert f"Task divide[{future.id}] succeeded" not in log


def test_a_retried_run_is_one_celery_task(flower: Flower) -> None:
    name = f"flaky-{uuid.uuid4().hex[:8]}"
    future = t.flaky.delay(name, 2)
    assert future.result(timeout=20) == 2
    task = wait_until(lambda: flower.task(future.id).get("state") == "SUCCESS"
                      and flower.task(future.id), 20, 0.2, "Flower to show SUCCESS")
    assert task["retries"] == 1
    assert [i for i in flower.tasks() if i.startswith(future.id)] == [future.id]
    assert flower.metric("flaky", "task-retried") >= 1
    signals = _signals()
    assert "attempt 1 failed on purpose" in signals[f"{future.id}:retry"]
    assert signals[f"{future.id}:success"] == "2"


def test_each_run_of_a_map_chunk_is_a_task(flower: Flower) -> None:
    futures = t.add.map([1, 2, 3], [10, 20, 30])
    assert [f.result(timeout=20) for f in futures] == [11, 22, 33]
    ids = [f.id for f in futures]

    def shown() -> dict[str, Any] | None:
        tasks = flower.tasks()
        ok = all(tasks.get(i, {}).get("state") == "SUCCESS" for i in ids)
        chunk = tasks.get(str(tasks.get(ids[0], {}).get("parent_id")), {})
        return tasks if ok and chunk.get("state") == "SUCCESS" else None

    tasks = wait_until(shown, 20, 0.2, "Flower to show each run of the chunk")
    assert {tasks[i]["result"] for i in ids} == {"11", "22", "33"}
    [chunk] = {tasks[i]["parent_id"] for i in ids}
    assert tasks[chunk]["name"] == "add[x3]"
    assert tasks[chunk]["state"] == "SUCCESS" and "3 completed" in tasks[chunk]["result"]


def test_a_flows_runs_on_a_worker_show_under_its_root(flower: Flower) -> None:
    f.family.deploy("d", work_pool_name=flower.queue)
    flow_run = run_deployment("family/d", parameters={"x": 1}, timeout=30)
    assert flow_run.state == S.COMPLETED, flow_run.state_message
    rt = get_runtime()
    runs = {child: rt.store.get(child) for child in rt.store.children(flow_run.id)}
    by_name: dict[str, list[str]] = {}
    for run_id, record in runs.items():
        by_name.setdefault(record.name, []).append(run_id)
    assert len(by_name["add"]) == 2 and len(by_name["divide"]) == 1
    nested = [r for r in rt.store.list_ids("flow", limit=50)
              if rt.store.get(r).parent_flow_run_id == flow_run.id]
    assert len(nested) == 1
    shown = [*by_name["add"], *by_name["divide"], nested[0]]

    def all_shown() -> dict[str, Any] | None:
        tasks = flower.tasks()
        done = all(tasks.get(i, {}).get("state") in ("SUCCESS", "FAILURE") for i in shown)
        return tasks if done and tasks.get(flow_run.id, {}).get("state") == "SUCCESS" else None

    tasks = wait_until(all_shown, 30, 0.3, "Flower to show the flow's runs")
    for run_id in shown:
        assert tasks[run_id]["root_id"] == flow_run.id
        assert tasks[run_id]["parent_id"] in (flow_run.id, nested[0])
    assert tasks[by_name["divide"][0]]["state"] == "FAILURE"
    assert "ZeroDivisionError" in tasks[by_name["divide"][0]]["exception"]
    assert tasks[nested[0]]["name"] == "inner-flow"
    signals = _signals()
    assert "ZeroDivisionError" in signals[f"{by_name['divide'][0]}:failure"]
    assert all(f"{i}:success" in signals for i in by_name["add"])


class _Raising:
    """A watcher that fails at every call."""

    def started(self, run: Any, attempt: int) -> None:
        raise RuntimeError("events broker gone")

    def concluded(self, run: Any, decision: Any, runtime: float) -> None:
        raise RuntimeError("events broker gone")


def test_a_failing_watcher_never_touches_the_run(tc_env: dict[str, Any],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    watch_runs(_Raising())
    try:
        assert t.add(2, 3) == 5
        assert f.inner_flow(1) == 2
    finally:
        watch_runs(None)
    assert "Celery events not sent" in caplog.text


def test_signals_in_a_celery_contrib_testing_worker(tc_env: dict[str, Any]) -> None:
    """Celery's own test worker (celery.contrib.testing, solo pool, in this process) runs
    tasks-core's tasks: the signals a user connects fire with the run's exception."""
    from celery import signals
    from celery.contrib.testing.worker import start_worker

    from workers.execute import register_tasks

    rt = get_runtime()
    register_tasks(rt.app)
    seen: dict[str, Any] = {}

    def failed(sender: Any = None, task_id: str = "", exception: Any = None,
               **_: Any) -> None:
        seen["failure"] = (task_id, exception)

    def retried(sender: Any = None, request: Any = None, reason: Any = None,
                **_: Any) -> None:
        seen["retry"] = (request.id, reason.exc)

    signals.task_failure.connect(failed, weak=False)
    signals.task_retry.connect(retried, weak=False)
    try:
        with start_worker(rt.app, pool="solo", perform_ping_check=False,
                          queues=[tc_env["queue"]], shutdown_timeout=15):
            future = t.divide.delay(1, 0)
            with pytest.raises(ZeroDivisionError):
                future.result(timeout=20)
            flaky = t.flaky.delay(f"solo-{uuid.uuid4().hex[:6]}", 2)
            assert flaky.result(timeout=20) == 2
    finally:
        signals.task_failure.disconnect(failed)
        signals.task_retry.disconnect(retried)
    assert seen["failure"][0] == future.id
    assert isinstance(seen["failure"][1], ZeroDivisionError)
    assert seen["retry"][0] == flaky.id
    assert isinstance(seen["retry"][1], ValueError)


def test_cancelled_runs_are_revoked_not_failed(flower: Flower) -> None:
    keys = [f"rv-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    busy = [t.spin.delay(key, 60) for key in keys]  # both worker processes
    for key in keys:
        wait_until(lambda key=key: get_runtime().client.get(
            f"{get_runtime().settings.key_prefix}:started:{key}"), 20, 0.05, "spin to start")
    queued = t.add.delay(1, 1)
    assert queued.cancel() == S.CANCELLED
    assert {f.cancel() for f in busy} == {S.CANCELLING}
    ids = [queued.id, *(f.id for f in busy)]
    for future in (queued, *busy):
        assert future.wait(timeout=20) == S.CANCELLED

    def revoked() -> dict[str, Any] | None:
        tasks = flower.tasks()
        return tasks if all(tasks.get(i, {}).get("state") == "REVOKED" for i in ids) else None

    wait_until(revoked, 20, 0.2, "Flower to show the three runs REVOKED")
    signals = _signals()
    assert not [i for i in ids if f"{i}:failure" in signals]
    assert flower.metric("spin", "task-failed") == 0
    log = flower.worker.output()  # the worker is the module's: its log has other tests' runs
    assert not [i for i in ids if f"[{i}] raised unexpected" in log]
