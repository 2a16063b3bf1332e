"""Tasks alone on a real Redis and real worker processes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tasks_core import RunTimeout, StateName, wait_all
from tasks_core.errors import FailedRun, TimedOutRun
from tasks_core.process_runtime import get_runtime
from tasks_core.run_event_codec import entry_text
from tests.integration import sample_tasks as t

S = StateName


def test_thousand_delays_complete_with_full_records(tc_env: dict[str, Any],
                                                     start_worker: Any) -> None:
    futures = [t.add.delay(i, i) for i in range(1000)]
    start_worker(concurrency=2)
    states = wait_all(futures, timeout=120)
    assert set(states) == {S.COMPLETED}
    store = get_runtime().store
    records = store.get_many([f.id for f in futures], history=True)
    assert len(records) == 1000
    for i, record in enumerate(records):
        assert [h.name for h in record.history] == [S.PENDING, S.RUNNING, S.COMPLETED]
        assert record.parameters == {"x": i, "y": i}
        assert record.attempt == 1 and record.worker and record.owner
        assert record.start_time and record.end_time and record.result_ref
        assert record.queue == tc_env["queue"] and record.task_key.endswith(":add")
    assert futures[7].result() == 14
    events = tc_env["client"].xrange(f"{tc_env['prefix']}:events")
    names = [json.loads(entry_text(fields) or "")["event"] for _, fields in events]
    assert names.count("tasks-core.task-run.Completed") == 1000
    assert names.count("tasks-core.task-run.Pending") == 1000


def test_events_follow_each_other_and_name_the_run(tc_env: dict[str, Any],
                                                    start_worker: Any) -> None:
    start_worker(concurrency=1)
    future = t.add.delay(1, 2)
    assert future.result(timeout=20) == 3
    raw = tc_env["client"].xrange(f"{tc_env['prefix']}:events")
    events = [json.loads(entry_text(fields) or "") for _, fields in raw]
    mine = [e for e in events
            if e["resource"]["tasks-core.resource.id"] == f"tasks-core.task-run.{future.id}"]
    assert [e["event"] for e in mine] == [
        "tasks-core.task-run.Pending", "tasks-core.task-run.Running",
        "tasks-core.task-run.Completed"]
    assert mine[0]["follows"] is None
    assert mine[1]["follows"] == mine[0]["id"] and mine[2]["follows"] == mine[1]["id"]
    assert mine[2]["payload"]["intended"] == {"from": "Running", "to": "Completed"}
    assert mine[2]["related"][0]["tasks-core.resource.role"] == "task"


def test_retries_then_success_and_retries_exhausted(tc_env: dict[str, Any],
                                                    start_worker: Any) -> None:
    start_worker()
    ok = t.flaky.delay("a", 3)
    assert ok.result(timeout=20) == 3
    history = [h.name for h in ok.record().history]
    assert history == [S.PENDING, S.RUNNING, S.AWAITING_RETRY, S.RETRYING, S.AWAITING_RETRY,
                       S.RETRYING, S.COMPLETED]
    assert ok.record().attempt == 3
    bad = t.flaky.delay("b", 10)
    with pytest.raises(ValueError, match="attempt 3 failed on purpose"):
        bad.result(timeout=20)
    record = bad.record()
    assert record.state == S.FAILED and record.attempt == 3
    assert record.error is not None and "ValueError" in record.error.traceback


def test_failure_reraises_original_type_and_message(tc_env: dict[str, Any],
                                                    start_worker: Any) -> None:
    start_worker()
    future = t.divide.delay(1, 0)
    with pytest.raises(ZeroDivisionError, match="division by zero") as info:
        future.get(timeout=20)
    assert any(future.id in note for note in info.value.__notes__)
    assert isinstance(future.result(timeout=1, raise_on_failure=False), ZeroDivisionError)


def test_timeout_is_enforced_on_the_worker(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1)
    slow = t.sleepy.delay(5)
    with pytest.raises(TimedOutRun, match=r"timed out after 0\.5s"):
        slow.result(timeout=20)
    assert slow.state == S.TIMED_OUT
    assert t.add.delay(2, 2).result(timeout=20) == 4  # the worker kept going


def test_countdown_and_eta_start_later(tc_env: dict[str, Any], start_worker: Any,
                                       start_beat: Any) -> None:
    start_worker()
    start_beat()
    future = t.add.apply_async((1, 2), countdown=1.0)
    assert future.state == S.SCHEDULED
    with pytest.raises(RunTimeout):
        future.wait(timeout=0.5)
    assert future.result(timeout=10) == 3
    record = future.record()
    assert record.scheduled_time is not None and record.start_time is not None
    assert record.start_time >= record.scheduled_time


def test_nested_task_records_parent(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker()
    future = t.outer.delay(4)
    assert future.result(timeout=20) == 50
    get_runtime().reporter.flush()
    children = [r for r in get_runtime().store.get_many(get_runtime().store.list_ids(limit=10))
                if r.parent_task_run_id == future.id]
    assert len(children) == 1 and children[0].name == "add"
    assert children[0].state == S.COMPLETED


def test_async_task_on_worker(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker()
    assert t.async_double.delay(21).result(timeout=20) == 42


def test_map_runs_every_input_as_its_own_run(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker()
    futures = t.add.map(range(250), [100] * 250)
    assert set(wait_all(futures, timeout=60)) == {S.COMPLETED}
    assert [f.result() for f in futures[:3]] == [100, 101, 102]
    assert len({f.id for f in futures}) == 250


def test_duplicate_delivery_runs_once(tc_env: dict[str, Any], start_worker: Any) -> None:
    from tasks_core.dispatch import Envelope, redis_push

    start_worker()
    future = t.count_calls.delay("dup")
    future.wait(timeout=20)
    push = redis_push(Envelope.for_run(future.id, 1, queue=tc_env["queue"], name="count_calls",
                                       argsrepr=""), get_runtime().store.keys)
    tc_env["client"].lpush(push.key, push.payload)
    probe = t.add.delay(0, 0)  # queued behind the duplicate on the same queue
    probe.wait(timeout=20)
    assert tc_env["client"].get(f"{tc_env['prefix']}:test-counter:dup") == "1"
    assert future.result() == 1


def test_in_process_call_is_tracked(tc_env: dict[str, Any]) -> None:
    assert t.outer(1) == 20
    rt = get_runtime()
    rt.reporter.flush()
    records = rt.store.get_many(rt.store.list_ids(limit=5), history=True)
    names = sorted(r.name for r in records)
    assert names == ["add", "outer"]
    inner = next(r for r in records if r.name == "add")
    outer_run = next(r for r in records if r.name == "outer")
    assert inner.parent_task_run_id == outer_run.id
    assert [h.name for h in outer_run.history] == [S.RUNNING, S.COMPLETED]


def test_in_process_failure_is_recorded_and_raised(tc_env: dict[str, Any]) -> None:
    with pytest.raises(ZeroDivisionError):
        t.divide(1, 0)
    rt = get_runtime()
    rt.reporter.flush()
    record = rt.store.get(rt.store.list_ids(limit=1)[0])
    assert record.state == S.FAILED and record.error and record.error.type == "ZeroDivisionError"


def test_failed_run_error_class_falls_back_to_failed_run(tc_env: dict[str, Any],
                                                         start_worker: Any) -> None:
    start_worker()
    future = t.flaky.delay("never", 99)
    future.wait(timeout=20)
    rt = get_runtime()
    rt.client.hset(rt.store.keys.run(future.id), "error", json.dumps(
        {"type": "no.such.module.Boom", "message": "gone", "traceback": ""}))
    with pytest.raises(FailedRun, match=r"no\.such\.module\.Boom: gone"):
        future.result()
