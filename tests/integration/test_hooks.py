"""State change hooks on every path a run can take (issue 9, item 6).

Paths: a direct call (sync and async), a nested flow, a flow's thread runner and Celery
runner, `.delay()` / `.map()` on a worker, a deployment's flow run on a worker
(`run_deployment`), a crash found by recovery (the worker that gets the redelivered
message, and beat's sweeper). Hooks record their calls in Redis (`sample_tasks.record_hook`),
so a hook called in a worker process is seen here too. Real redis-server, real workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any

import pytest

from beat import sweeper
from tasks_core import StateName, cancel_run
from tasks_core.deployments import run_deployment
from tasks_core.engine import new_runs
from tasks_core.engine.recovery import recover_crashed
from tasks_core.engine.views import RunState
from tasks_core.errors import CrashedRun
from tasks_core.flow import FlowState
from tasks_core.process_runtime import get_runtime
from tasks_core.store.runs import utcnow
from tasks_core.work_pools import create_pool, pool_store
from tests.helpers import wait_until
from tests.integration import sample_flows as f
from tests.integration import sample_tasks as t

S = StateName


def _calls(name: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The hook calls of runs named `name`, once there are `count` of them (never more)."""
    calls = wait_until(lambda: (c := t.hook_calls(name)) and len(c) >= count and c, timeout,
                       message=f"{count} hook calls of {name}")
    assert len(calls) == count, calls
    return list(calls)


def _summary(calls: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(c["option"], c["state"], c["attempt"]) for c in calls]


def _pid_of(tc_env: dict[str, Any], key: str) -> int:
    value = wait_until(lambda: tc_env["client"].get(f"{tc_env['prefix']}:pid:{key}"), 20,
                       message="the run to start")
    return int(value)


# -- in process ---------------------------------------------------------------------------


def test_task_hooks_on_a_direct_call_sync_and_async(tc_env: dict[str, Any]) -> None:
    assert t.hooked_divide(6, 3) == 2.0
    [done] = _calls("hooked_divide", 1)
    assert done["option"] == "on_completion" and done["state"] == S.COMPLETED
    assert done["recorded"] == S.COMPLETED  # the hook ran after the end was written
    assert done["value"] == "2.0" and done["parameters"] == {"x": 6, "y": 3}
    assert done["definition"] == "hooked_divide" and done["kind"] == "task"
    assert done["tags"] == ["hooked"] and done["same_state"] and done["pid"] == os.getpid()
    with pytest.raises(ZeroDivisionError):
        t.hooked_divide(1, 0)
    failed = _calls("hooked_divide", 2)[1]
    assert (failed["option"], failed["state"], failed["recorded"]) == (
        "on_failure", S.FAILED, S.FAILED)
    assert "ZeroDivisionError" in failed["exception"] and "division" in failed["message"]

    assert asyncio.run(t.hooked_async_divide(4, 2)) == 2.0
    with pytest.raises(ZeroDivisionError):
        asyncio.run(t.hooked_async_divide(1, 0))
    assert _summary(_calls("hooked_async_divide", 2)) == [
        ("on_completion", S.COMPLETED, 1), ("on_failure", S.FAILED, 1)]


def test_a_retried_task_calls_on_failure_once_when_it_finally_fails(
        tc_env: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="attempt 3"):
        t.hooked_flaky("never", 10)
    assert _summary(_calls("hooked_flaky", 1)) == [("on_failure", S.FAILED, 3)]
    assert t.hooked_flaky("second", 2) == 2  # a failure that was retried calls no hook
    assert _summary(_calls("hooked_flaky", 2))[1] == ("on_completion", S.COMPLETED, 2)


def test_a_cache_hit_calls_on_completion_with_cached(tc_env: dict[str, Any]) -> None:
    assert t.hooked_cached("a") == "a"
    assert t.hooked_cached("a") == "a"
    assert _summary(_calls("hooked_cached", 2)) == [
        ("on_completion", S.COMPLETED, 1), ("on_completion", S.CACHED, 1)]


def test_a_hook_that_raises_is_logged_and_changes_nothing(
        tc_env: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="tasks_core.hooks")
    assert t.hook_raises(False) == "ok"
    with pytest.raises(ValueError, match="body failed"):
        t.hook_raises(True)
    calls = _calls("hook_raises", 2)  # the next hook in the list still runs
    assert _summary(calls) == [("on_completion", S.COMPLETED, 1), ("on_failure", S.FAILED, 1)]
    rt = get_runtime()
    rt.reporter.flush()
    for call in calls:
        assert rt.store.get(call["id"]).state == call["state"]
        assert any(call["id"] in r.getMessage() and "failing_hook raised" in r.getMessage()
                   and call["option"] in r.getMessage() for r in caplog.records)


def test_an_interrupted_direct_call_calls_on_crashed(tc_env: dict[str, Any]) -> None:
    with pytest.raises(KeyboardInterrupt):
        t.hooked_interrupted()
    [crashed] = _calls("hooked_interrupted", 1)
    assert (crashed["option"], crashed["state"], crashed["recorded"]) == (
        "on_crashed", S.CRASHED, S.CRASHED)


def test_hooks_added_with_the_decorator_form(tc_env: dict[str, Any]) -> None:
    assert t.decorated_hooks(5) == 2
    with pytest.raises(ZeroDivisionError):
        t.decorated_hooks(0)
    assert _summary(_calls("decorated_hooks", 2)) == [
        ("on_completion", S.COMPLETED, 1), ("on_failure", S.FAILED, 1)]


def test_flow_hooks_on_a_direct_call_sync_and_async(tc_env: dict[str, Any]) -> None:
    state = f.hooked_flow(3, return_state=True)
    assert isinstance(state, RunState) and FlowState is RunState and state.result() == 3
    with pytest.raises(ValueError, match="flow failed"):
        f.hooked_flow(1, fail=True)
    calls = _calls("hooked-flow", 4)
    assert _summary(calls) == [
        ("on_running", S.RUNNING, 1), ("on_completion", S.COMPLETED, 1),
        ("on_running", S.RUNNING, 1), ("on_failure", S.FAILED, 1)]
    assert calls[1]["id"] == state.run_id and calls[1]["kind"] == "flow"
    assert calls[1]["tags"] == ["hooked-flow"] and calls[1]["recorded"] == S.COMPLETED
    assert calls[0]["parameters"] == {"x": 3}  # as recorded: the arguments given

    assert asyncio.run(f.hooked_async_flow(2)) == 2
    with pytest.raises(ValueError, match="async flow failed"):
        asyncio.run(f.hooked_async_flow(2, fail=True))
    assert _summary(_calls("hooked-async-flow", 4)) == [
        ("on_running", S.RUNNING, 1), ("on_completion", S.COMPLETED, 1),
        ("on_running", S.RUNNING, 1), ("on_failure", S.FAILED, 1)]


def test_a_retried_flow_runs_on_running_per_attempt_and_on_failure_once(
        tc_env: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="every attempt fails"):
        f.hooked_retried_flow()
    assert _summary(_calls("hooked-retried-flow", 3)) == [
        ("on_running", S.RUNNING, 1), ("on_running", S.RETRYING, 2),
        ("on_failure", S.FAILED, 2)]


def test_a_nested_flow_calls_its_own_hooks(tc_env: dict[str, Any]) -> None:
    assert f.hooked_parent(2) == 3
    parent = _calls("hooked-parent", 2)
    child = _calls("hooked-flow", 2)
    assert _summary(child) == [("on_running", S.RUNNING, 1), ("on_completion", S.COMPLETED, 1)]
    assert _summary(parent)[1] == ("on_completion", S.COMPLETED, 1)
    assert child[1]["parent_flow_run_id"] == parent[1]["id"]


def test_task_hooks_on_the_thread_runner(tc_env: dict[str, Any]) -> None:
    state = f.hooked_tasks_on_threads([1, 0], return_state=True)
    assert state.name == S.COMPLETED
    calls = _calls("hooked_divide", 2)
    assert sorted(c["option"] for c in calls) == ["on_completion", "on_failure"]
    assert {c["parent_flow_run_id"] for c in calls} == {state.run_id}
    assert {c["recorded"] for c in calls} == {S.COMPLETED, S.FAILED}


# -- on workers ---------------------------------------------------------------------------


def test_task_hooks_on_a_worker_delay_and_map(tc_env: dict[str, Any],
                                             start_worker: Any) -> None:
    worker = start_worker(concurrency=1)
    assert t.hooked_divide.delay(6, 3).result(timeout=20) == 2.0
    [done] = _calls("hooked_divide", 1)
    assert done["pid"] != os.getpid() and done["recorded"] == S.COMPLETED
    assert done["parameters"] == {"x": 6, "y": 3} and done["value"] == "2.0"
    with pytest.raises(ZeroDivisionError):
        t.hooked_divide.delay(1, 0).result(timeout=20)
    assert _calls("hooked_divide", 2)[1]["option"] == "on_failure"
    futures = t.hooked_divide.map([1, 1, 1], [1, 0, 2])  # one chunk of three runs
    for future in futures:
        future.wait(timeout=20)
    calls = _calls("hooked_divide", 5)[2:]
    assert {(c["id"], c["option"], c["recorded"]) for c in calls} == {
        (futures[0].id, "on_completion", S.COMPLETED), (futures[1].id, "on_failure", S.FAILED),
        (futures[2].id, "on_completion", S.COMPLETED)}

    assert t.hook_raises.delay(False).result(timeout=20) == "ok"
    [call] = _calls("hook_raises", 1)
    wait_until(lambda: "failing_hook raised" in worker.output(), 10, message="the hook's log")
    assert call["id"] in worker.output()


def test_retries_and_cache_hits_on_a_worker(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1)
    with pytest.raises(ValueError, match="attempt 3"):
        t.hooked_flaky.delay("worker-never", 10).result(timeout=20)
    assert _summary(_calls("hooked_flaky", 1)) == [("on_failure", S.FAILED, 3)]
    assert t.hooked_cached.delay("w").result(timeout=20) == "w"
    assert t.hooked_cached.delay("w").result(timeout=20) == "w"
    assert [c["state"] for c in _calls("hooked_cached", 2)] == [S.COMPLETED, S.CACHED]


def test_task_hooks_on_the_celery_runner(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=2)
    state = f.hooked_tasks_on_workers([1, 0], return_state=True)
    assert state.name == S.COMPLETED
    calls = _calls("hooked_divide", 2)
    assert sorted(c["option"] for c in calls) == ["on_completion", "on_failure"]
    assert {c["parent_flow_run_id"] for c in calls} == {state.run_id}
    assert all(c["pid"] != os.getpid() for c in calls)


def test_flow_hooks_on_a_deployment_run(tc_env: dict[str, Any], start_worker: Any) -> None:
    f.hooked_flow.deploy("d", work_pool_name=tc_env["queue"], tags=["nightly"])
    f.hooked_async_flow.deploy("d", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1)
    run = run_deployment("hooked-flow/d", parameters={"x": 4}, timeout=30)
    assert run.state == S.COMPLETED
    calls = _calls("hooked-flow", 2)
    assert _summary(calls) == [("on_running", S.RUNNING, 1), ("on_completion", S.COMPLETED, 1)]
    assert {c["id"] for c in calls} == {run.id}
    assert calls[1]["recorded"] == S.COMPLETED and calls[1]["pid"] != os.getpid()
    assert calls[1]["deployment_id"] and calls[1]["value"] == "4"
    assert "nightly" in calls[1]["tags"]
    failed = run_deployment("hooked-flow/d", parameters={"x": 1, "fail": True}, timeout=30)
    assert failed.state == S.FAILED
    assert _summary(_calls("hooked-flow", 4)[2:]) == [
        ("on_running", S.RUNNING, 1), ("on_failure", S.FAILED, 1)]
    done = run_deployment("hooked-async-flow/d", parameters={"x": 5}, timeout=30)
    assert done.state == S.COMPLETED
    assert _summary(_calls("hooked-async-flow", 2)) == [
        ("on_running", S.RUNNING, 1), ("on_completion", S.COMPLETED, 1)]


# -- crashes found by recovery ------------------------------------------------------------


def test_a_killed_task_calls_on_crashed_where_recovery_concludes_it(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=2)
    future = t.hooked_pid_and_sleep.delay("hk1", 30)
    os.kill(_pid_of(tc_env, "hk1"), signal.SIGKILL)
    with pytest.raises(CrashedRun, match="died during attempt 1"):
        future.result(timeout=20)
    [crashed] = _calls("hooked_pid_and_sleep", 1)
    assert (crashed["option"], crashed["state"], crashed["recorded"]) == (
        "on_crashed", S.CRASHED, S.CRASHED)
    assert crashed["id"] == future.id and crashed["pid"] != os.getpid()  # in the worker


def test_the_sweeper_calls_on_crashed_for_a_task_and_a_deployment_flow(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    f.hooked_sleepy_flow.deploy("d", work_pool_name=tc_env["queue"])
    worker = start_worker(concurrency=2)
    future = t.hooked_pid_and_sleep.delay("hk2", 30)
    run = run_deployment("hooked-sleepy-flow/d", parameters={"key": "hk3"}, timeout=0)
    _pid_of(tc_env, "hk2")
    _pid_of(tc_env, "hk3")
    worker.stop(signal.SIGKILL)
    rt = get_runtime()
    recovered: set[str] = set()

    def swept() -> bool:
        recovered.update(sweeper.tick(rt, utcnow()).crashed)
        return {future.id, run.id} <= recovered

    wait_until(swept, 20, 0.2, "the sweeper to recover both runs")
    [task_crash] = _calls("hooked_pid_and_sleep", 1)
    flow_calls = _calls("hooked-sleepy-flow", 2)  # on_running on the worker, then the crash
    assert task_crash["option"] == "on_crashed" and task_crash["pid"] == os.getpid()
    assert _summary(flow_calls) == [("on_running", S.RUNNING, 1), ("on_crashed", S.CRASHED, 1)]
    assert flow_calls[1]["pid"] == os.getpid() and flow_calls[1]["recorded"] == S.CRASHED


def test_a_cancelling_run_whose_worker_died_ends_cancelled_with_its_hooks_and_slot(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    """Cancelled (not Crashed) when the sweeper finds the owner of a Cancelling run dead:
    its on_cancellation hooks run there, and a deployment flow run frees its pool slot."""
    create_pool(tc_env["queue"], concurrency_limit=2)
    f.hooked_sleepy_flow.deploy("d", work_pool_name=tc_env["queue"])
    worker = start_worker(concurrency=2)
    future = t.hooked_pid_and_sleep.delay("hk4", 30)
    run = run_deployment("hooked-sleepy-flow/d", parameters={"key": "hk5"}, timeout=0)
    _pid_of(tc_env, "hk4")
    _pid_of(tc_env, "hk5")
    rt = get_runtime()
    # blocked in time.sleep: each stays Cancelling until its process dies
    assert cancel_run(future.id) == S.CANCELLING
    assert cancel_run(run.id) == S.CANCELLING
    worker.stop(signal.SIGKILL)
    recovered: set[str] = set()

    def swept() -> bool:
        recovered.update(sweeper.tick(rt, utcnow()).crashed)
        return {future.id, run.id} <= recovered

    wait_until(swept, 20, 0.2, "the sweeper to end both runs")
    assert rt.store.get(future.id).state == S.CANCELLED
    assert rt.store.get(run.id).state == S.CANCELLED
    [task_end] = _calls("hooked_pid_and_sleep", 1)
    assert (task_end["option"], task_end["state"], task_end["pid"]) == (
        "on_cancellation", S.CANCELLED, os.getpid())
    flow_calls = _calls("hooked-sleepy-flow", 2)
    assert _summary(flow_calls) == [("on_running", S.RUNNING, 1),
                                    ("on_cancellation", S.CANCELLED, 1)]
    assert pool_store(rt).running(tc_env["queue"]) == []


def test_a_crash_whose_flow_cannot_be_found_is_logged(
        tc_env: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    rt = get_runtime()
    record = new_runs.flow_run(f.hooked_flow, '{"x": 1}', f.hooked_flow.options, None, None,
                               "elsewhere:999999")
    rt.store.create(record)
    caplog.set_level(logging.WARNING, logger="tasks_core.hooks")
    assert recover_crashed(rt, rt.store.get(record.id))
    assert rt.store.get(record.id).state == S.CRASHED
    assert any(record.id in r.getMessage() and "could not be called" in r.getMessage()
               for r in caplog.records)
    assert t.hook_calls("hooked-flow") == []
