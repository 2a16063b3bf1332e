"""Flows in process: flow runs, nested flows, parameters, failures (real Redis)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tasks_core import ParameterError, StateName
from tasks_core.errors import TaskTimeout
from tasks_core.flow import flow
from tasks_core.process_runtime import get_runtime
from tasks_core.task import task
from tests.integration import sample_tasks as t

S = StateName


@flow
def child_flow(x: int) -> int:
    return t.add(x, 1)


@flow(name="parent")
def parent_flow(n: int) -> list[int]:
    return [child_flow(n), child_flow(n * 10)]


def test_nested_flows_record_the_run_tree(tc_env: dict[str, Any]) -> None:
    assert parent_flow(2) == [3, 21]
    rt = get_runtime()
    rt.reporter.flush()
    [parent_id] = rt.store.list_ids("flow", limit=10)[-1:]
    parent = rt.store.get(parent_id)
    assert parent.name == "parent" and parent.state == S.COMPLETED
    placeholders = rt.store.get_many(rt.store.children(parent.id))
    assert [p.name for p in placeholders] == ["child-flow", "child-flow"]
    assert all(p.state == S.COMPLETED and p.kind == "task" for p in placeholders)
    children = [rt.store.get_many(rt.store.children(p.id))[0] for p in placeholders]
    assert all(c.kind == "flow" and c.parent_flow_run_id == parent.id for c in children)
    assert [c.parameters for c in children] == [{"x": 2}, {"x": 20}]
    tasks = rt.store.get_many(rt.store.children(children[0].id))
    assert [r.name for r in tasks] == ["add"] and tasks[0].parent_flow_run_id == children[0].id


def test_parameters_are_validated_and_coerced(tc_env: dict[str, Any]) -> None:
    assert child_flow("41") == 42  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"invalid parameters for flow 'child-flow': x"):
        child_flow("forty")  # type: ignore[arg-type]
    rt = get_runtime()
    rt.reporter.flush()
    [run] = rt.store.get_many(rt.store.list_ids("flow"))  # the bad call recorded nothing
    assert run.parameters == {"x": 41}


@flow
def failing_flow() -> None:
    t.divide(1, 0)


def test_a_failing_task_fails_the_flow(tc_env: dict[str, Any]) -> None:
    with pytest.raises(ZeroDivisionError):
        failing_flow()
    rt = get_runtime()
    rt.reporter.flush()
    run = rt.store.get(rt.store.list_ids("flow", limit=1)[0])
    assert run.state == S.FAILED and run.error and run.error.type == "ZeroDivisionError"
    [task_run] = rt.store.get_many(rt.store.children(run.id))
    assert task_run.state == S.FAILED and task_run.error is not None


@flow(retries=2)
def flaky_flow(name: str) -> int:
    return t.flaky.fn(name, 2)


def test_flow_retries_and_return_state(tc_env: dict[str, Any]) -> None:
    assert flaky_flow("flow-retry") == 2
    state = failing_flow(return_state=True)
    assert state.is_failed() and isinstance(state.result(raise_on_failure=False),
                                            ZeroDivisionError)
    rt = get_runtime()
    rt.reporter.flush()
    runs = rt.store.get_many(rt.store.list_ids("flow", limit=5), history=True)
    retried = next(r for r in runs if r.name == "flaky-flow")
    assert [h.name for h in retried.history] == [S.RUNNING, S.AWAITING_RETRY, S.RETRYING,
                                                 S.COMPLETED]


@flow
def fan_out(n: int) -> list[int]:
    futures = t.add.map(range(n), [1] * n)
    doubled = t.add.submit(futures[0], futures[1])  # futures as arguments are resolved
    return [f.result() for f in futures] + [doubled.result()]


def test_submit_and_map_run_on_the_thread_pool(tc_env: dict[str, Any]) -> None:
    assert fan_out(4) == [1, 2, 3, 4, 3]
    rt = get_runtime()
    rt.reporter.flush()
    run_id = rt.store.list_ids("flow", limit=1)[0]
    children = rt.store.get_many(rt.store.children(run_id))
    assert len(children) == 5 and {c.state for c in children} == {S.COMPLETED}
    assert all(c.parent_flow_run_id == run_id for c in children)


@flow
def ordered(name: str) -> None:
    first = t.count_calls.submit(name)
    t.count_calls.submit(name, wait_for=[first])
    # not waited on here: the flow waits for unfinished futures before it ends


def test_wait_for_and_unfinished_futures(tc_env: dict[str, Any]) -> None:
    ordered("order")
    assert tc_env["client"].get(f"{tc_env['prefix']}:test-counter:order") == "2"


def test_celery_task_runner_ships_runs_to_workers(tc_env: dict[str, Any],
                                                  start_worker: Any) -> None:
    from tasks_core.task_runners import CeleryTaskRunner

    @flow(task_runner=CeleryTaskRunner())
    def on_workers(n: int) -> list[int]:
        return [f.result(timeout=30) for f in t.add.map(range(n), [5] * n)]

    start_worker()
    assert on_workers(6) == [5, 6, 7, 8, 9, 10]
    rt = get_runtime()
    rt.reporter.flush()
    run_id = rt.store.list_ids("flow", limit=1)[0]
    children = rt.store.get_many(rt.store.children(run_id))
    assert len(children) == 6 and all(c.worker and c.owner != rt.owner for c in children)


@flow
async def slow_child(x: int, seconds: float) -> int:
    await asyncio.sleep(seconds)
    return await t.async_double(x)


@flow
async def async_parent() -> list[int]:
    return list(await asyncio.gather(slow_child(1, 0.3), slow_child(2, 0.3), slow_child(3, 0.3)))


def test_async_subflows_run_concurrently(tc_env: dict[str, Any]) -> None:
    started = time.monotonic()
    assert asyncio.run(async_parent()) == [2, 4, 6]
    assert time.monotonic() - started < 0.8  # three 0.3 s subflows overlapped
    rt = get_runtime()
    rt.reporter.flush()
    parent = next(r for r in rt.store.get_many(rt.store.list_ids("flow", limit=10))
                  if r.name == "async-parent")
    placeholders = rt.store.get_many(rt.store.children(parent.id))
    assert len(placeholders) == 3 and {p.state for p in placeholders} == {S.COMPLETED}
    children = [rt.store.get_many(rt.store.children(p.id))[0] for p in placeholders]
    assert sorted(c.parameters["x"] for c in children) == [1, 2, 3]
    for child in children:  # each child's task run links to its own child flow run
        [task_run] = rt.store.get_many(rt.store.children(child.id))
        assert task_run.name == "async_double" and task_run.parent_flow_run_id == child.id


@flow(timeout_seconds=0.2)
async def too_slow() -> None:
    await asyncio.sleep(5)


@flow(timeout_seconds=0.2)
def too_slow_sync() -> None:
    time.sleep(5)


def test_flow_timeouts_end_timed_out(tc_env: dict[str, Any]) -> None:
    state = asyncio.run(too_slow(return_state=True))
    assert state.name == S.TIMED_OUT
    assert too_slow_sync(return_state=True).name == S.TIMED_OUT
    rt = get_runtime()
    rt.reporter.flush()
    runs = rt.store.get_many(rt.store.list_ids("flow", limit=5))
    assert {r.state for r in runs} == {S.TIMED_OUT}


@task(timeout_seconds=0.3)
def spins(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # pure Python: interruptible in a thread
        pass
    return "finished"


@flow
def submits_a_slow_task() -> list[str]:
    fast, slow = spins.submit(0.01), spins.submit(10)
    slow.wait()
    try:
        slow.result()
    except TaskTimeout as exc:
        return [fast.result(), slow.state.value, str(exc)]
    return ["the slow task was not interrupted"]


def test_a_task_timeout_holds_on_the_thread_pool(tc_env: dict[str, Any]) -> None:
    started = time.monotonic()
    assert submits_a_slow_task() == ["finished", "TimedOut", "timed out after 0.3s"]
    assert time.monotonic() - started < 5
    rt = get_runtime()
    rt.reporter.flush()
    states = sorted(r.state.value for r in rt.store.get_many(rt.store.list_ids("task")))
    assert states == [S.COMPLETED.value, S.TIMED_OUT.value]


@flow
def interrupted() -> None:
    raise KeyboardInterrupt("stop")


def test_an_interrupted_flow_ends_crashed_not_running(tc_env: dict[str, Any]) -> None:
    with pytest.raises(KeyboardInterrupt):
        interrupted()
    rt = get_runtime()
    run = rt.store.get(rt.store.list_ids("flow", limit=1)[0])
    assert run.state == S.CRASHED and "KeyboardInterrupt" in run.state_message


@flow
def returns_an_object() -> object:
    return Opaque()


class Opaque:
    """No JSON form."""


def test_a_flow_result_with_no_json_form_is_returned_in_process(tc_env: dict[str, Any]) -> None:
    """In process the caller gets the object itself; the run completes, saying the result
    was not stored. (A deployment's flow run, whose result crosses a process, fails.)"""
    value = returns_an_object()
    assert isinstance(value, Opaque)
    rt = get_runtime()
    rt.reporter.flush()
    run = rt.store.get(rt.store.list_ids("flow", limit=1)[0])
    assert run.state == S.COMPLETED
    assert run.state_message.startswith("result not stored")
    assert rt.store.result_json(run.id) is None
