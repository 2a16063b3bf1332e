"""Mapping and futures (issue 15 item 3) on a real Redis, in a flow's thread runner and on
real worker processes: keyword and positional `.map()`, `unmapped`, `FutureList`, futures
as arguments, ``wait_for`` with `allow_failure`, `quote`, and `wait` / `as_completed`."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tasks_core import ParameterError, RunTimeout, future_sets, tags, task, unmapped
from tasks_core.futures import FutureList, as_completed, wait
from tasks_core.process_runtime import get_runtime
from tasks_core.state_history import is_history_field
from tests.integration import futures_tasks as ft

IMPORTS = ("tests.integration.futures_tasks",)


def test_futures_annotations_and_map_inside_a_flow(tc_env: dict[str, Any]) -> None:
    out = ft.futures_as_arguments()
    assert out["direct"] == 13 and out["submitted"] == 103 and out["nested"] == 3
    assert out["quoted"] == "InProcessFuture"
    assert out["after_failure"] == 2 and out["given_failure"] == "ValueError"
    assert out["direct_wait_for"] == 4 and out["task_run_id"] is True
    assert out["blocked_state"] == "Failed" and out["blocked_error"] == "UpstreamFailed"
    assert "upstream broke" in out["direct_blocked"]
    assert "allow_failure" in out["direct_blocked"]
    assert out["mapped_type"] == "FutureList" and out["mapped"] == [11, 22, 33]
    assert out["mapped_unmapped"] == [[1, 2], [10, 20]]


def test_a_blocked_run_is_recorded_failed_and_not_retried(tc_env: dict[str, Any]) -> None:
    ft.futures_as_arguments()
    store = get_runtime().store
    get_runtime().reporter.flush()
    runs = store.get_many(store.list_ids("task", limit=100))
    blocked = [r for r in runs if r.error and r.error.type.endswith("UpstreamFailed")]
    assert len(blocked) == 2  # the submitted one and the direct call
    assert all(r.state == "Failed" and r.attempt == 1 for r in blocked)


def test_keyword_map_on_workers_returns_a_future_list(tc_env: dict[str, Any],
                                                      start_worker: Any) -> None:
    start_worker(concurrency=2, imports=IMPORTS)
    futures = ft.add.map(x=[1, 2, 3], y=[10, 20, 30])
    assert isinstance(futures, FutureList) and len(futures) == 3
    assert futures.result(timeout=30) == [11, 22, 33]
    assert ft.add.map([1, 2, 3], 100).result(timeout=30) == [101, 102, 103]
    both = ft.scale.map(unmapped([1, 2]), factor=[3, 4])
    both.wait(30)
    assert [f.result() for f in both] == [[3, 6], [4, 8]]
    failing = ft.boom.map(["a", "b"])
    assert [type(e).__name__ for e in failing.result(30, raise_on_failure=False)] == [
        "ValueError", "ValueError"]
    with pytest.raises(ValueError, match="a"):
        failing.result(30)


def test_map_errors_are_clear_and_create_nothing(tc_env: dict[str, Any]) -> None:
    with pytest.raises(ParameterError, match=r"differ in length \(x=3, y=2\).*unmapped"):
        ft.add.map(x=[1, 2, 3], y=[10, 20])
    with pytest.raises(ParameterError, match="no iterable argument"):
        ft.add.map(1, 2)
    with pytest.raises(ParameterError, match="unexpected keyword argument 'z'"):
        ft.add.map([1], [2], z=[2])
    assert get_runtime().store.list_ids("task") == []


def test_wait_and_as_completed_on_worker_runs(tc_env: dict[str, Any],
                                              start_worker: Any) -> None:
    start_worker(concurrency=2, imports=IMPORTS)
    slow, fast = ft.slow_add.delay(1, 1, 1.5), ft.slow_add.delay(2, 2, 0.05)
    assert [f.result() for f in as_completed([slow, fast], timeout=30)] == [4, 2]
    quick = ft.add.delay(0, 0)
    hanging_queue = ft.add.apply_async((5, 5), queue="nobody-listens")  # no worker there
    done, not_done = wait([fast, hanging_queue], timeout=0.3)
    assert done == {fast} and not_done == {hanging_queue}
    started = time.monotonic()
    with pytest.raises(RunTimeout, match="1 of 2 runs not finished"):
        list(as_completed([quick, hanging_queue], timeout=0.3))
    assert time.monotonic() - started < 5
    assert quick.result(timeout=30) == 0


def test_a_large_map_result_reads_every_outcome_in_order_with_failures_in_place(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    # more runs than one outcome read holds (future_sets.OUTCOME_CHUNK), with failures
    # between them: values in order, the first failure raised, or each in its place
    start_worker(concurrency=2, imports=IMPORTS)
    assert future_sets.OUTCOME_CHUNK < 600
    first = ft.add.map(list(range(600)), 1)
    failing = ft.boom.map(["first", "second"])
    last = ft.add.map(list(range(5)), 1000)
    mixed = FutureList([*first, failing[0], *last, failing[1]])
    values = mixed.result(timeout=120, raise_on_failure=False)
    assert values[:600] == [i + 1 for i in range(600)]
    assert isinstance(values[600], ValueError) and "first" in str(values[600])
    assert values[601:606] == [1000, 1001, 1002, 1003, 1004]
    assert isinstance(values[606], ValueError) and "second" in str(values[606])
    with pytest.raises(ValueError, match="first"):
        mixed.result(timeout=30)
    hanging = ft.add.apply_async((5, 5), queue="nobody-listens")  # no worker there
    with pytest.raises(RunTimeout, match=r"1 of 3 mapped runs not finished after 0\.3s"):
        FutureList([*last[:2], hanging]).result(timeout=0.3)


def test_map_runs_are_stored_as_delay_stores_each(tc_env: dict[str, Any]) -> None:
    """`.map()` builds its first record as `.delay()` does and copies the others' fields
    (`engine.fanout`): each must hold what `.delay()` would have written for it."""
    @task(task_run_name="named-{x}", tags=["mapped"], retries=2)
    def named(x: int, y: int = 1) -> int:
        return x + y

    with tags("outer"):
        futures = named.map([1, 2, 3], y=unmapped(5))
        single = named.delay(4, y=5)
    client = tc_env["client"]
    prefix = tc_env["prefix"]

    def stored(run_id: str) -> dict[str, str]:
        fields = client.hgetall(f"{prefix}:run:{run_id}")
        return {k: v for k, v in fields.items() if not is_history_field(k)}

    expected = stored(single.id)
    records = [get_runtime().store.get(f.id) for f in futures]
    for x, future, record in zip([1, 2, 3], futures, records, strict=True):
        assert stored(future.id) == {**expected, "id": future.id,
                                     "parameters": f'{{"x":{x},"y":5}}',
                                     "task_run_name": f"named-{x}"}
        assert record.tags == ["mapped", "outer"] and record.options.retries == 2
        assert record.state == "Pending" and record.history[0].name == "Pending"
    assert records[0].created < records[1].created < records[2].created
