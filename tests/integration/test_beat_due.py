"""Beat reads only what is due: the schedule index, the due set, the Scheduled index by time,
delayed retries in the due set, an early wake, and a lock kept through a long pass."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beat import deferred, scheduler
from beat.main import is_leader, run_beat
from tasks_core import StateName
from tasks_core.deployments import delete_deployment, deployment_store, set_paused
from tasks_core.process_runtime import get_runtime
from tasks_core.store.runs import utcnow
from tests.helpers import wait_until
from tests.integration import sample_flows as f
from tests.integration import sample_tasks as t

S = StateName


def _index(rt: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in
            rt.client.zrange(rt.store.keys.schedules, 0, -1, withscores=True)}


def test_the_scheduler_looks_only_at_deployments_that_are_due(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    horizon = rt.settings.schedule_horizon_seconds
    ids = [f.pipeline.deploy(f"every-{i}", work_pool_name=tc_env["queue"], interval=60 * (i + 1),
                             parameters={"lat": 1}) for i in range(3)]
    idle = f.pipeline.deploy("unscheduled", work_pool_name=tc_env["queue"])
    assert set(_index(rt)) == set(ids) and idle not in _index(rt)
    now = utcnow()
    created = scheduler.tick(rt, now)
    assert len(created) == sum(int(horizon // (60 * (i + 1))) for i in range(3))
    looks = _index(rt)
    assert min(looks.values()) > now.timestamp()  # nothing due until a time enters the horizon
    assert scheduler.tick(rt, now + timedelta(seconds=30)) == []
    first = min(looks, key=looks.__getitem__)
    at = datetime.fromtimestamp(looks[first], UTC)
    more = scheduler.tick(rt, at)  # the first look: that deployment gets one more run
    assert [rt.store.get(run_id).deployment_id for run_id in more] == [first]
    assert _index(rt)[first] > looks[first]


def test_pause_resume_and_delete_keep_the_index_and_queued_runs_right(
        tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    dep_id = f.pipeline.deploy("hourly", work_pool_name=tc_env["queue"], cron="0 * * * *",
                               parameters={"lat": 1})
    queued = scheduler.tick(rt, utcnow())
    assert queued and dep_id in _index(rt)
    set_paused("pipeline/hourly", True)
    assert dep_id not in _index(rt)
    assert {rt.store.get(i).state for i in queued} == {S.CANCELLED}
    assert rt.client.zcard(rt.store.keys.due) == 0
    set_paused("pipeline/hourly", False)
    assert _index(rt)[dep_id] <= utcnow().timestamp()  # due at once
    again = scheduler.tick(rt, utcnow())
    # the same hours are created again (the cancelled runs freed their times)
    assert sorted(rt.store.get(i).scheduled_time for i in again) == \
        sorted(rt.store.get(i).scheduled_time for i in queued)
    delete_deployment("pipeline/hourly")
    assert dep_id not in _index(rt) and rt.client.zcard(rt.store.keys.due) == 0
    assert {rt.store.get(i).state for i in again} == {S.CANCELLED}
    assert deployment_store().find("pipeline/hourly") is None


def test_overdue_runs_become_late_behind_many_future_ones(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    future = [t.add.apply_async((i, i), countdown=3600) for i in range(deferred.PAGE + 100)]
    overdue = t.add.apply_async((1, 1), countdown=1)  # created after all of them
    rt.client.zrem(rt.store.keys.due, overdue.id)  # pretend it was sent and never started
    later = utcnow() + timedelta(seconds=2 + rt.settings.late_after_seconds)
    deferred.tick(rt, later)
    assert overdue.state == S.LATE
    assert {rt.store.get(x.id).state for x in future[:5] + future[-5:]} == {S.SCHEDULED}


def test_a_delayed_retry_waits_in_the_due_set_and_survives_a_worker_kill(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    import signal

    rt = get_runtime()
    start_beat()
    wait_until(lambda: rt.client.exists(rt.store.keys.lock("beat")), 20, 0.05,
               "beat to take its lock")
    worker = start_worker(concurrency=1)
    future = t.slow_retry.delay("due-retry")
    wait_until(lambda: future.state == S.AWAITING_RETRY, 20, 0.02, "the first attempt to fail")
    assert rt.client.zscore(rt.store.keys.due, future.id) is not None
    assert rt.queues.depth(tc_env["queue"]) == 0  # no ETA message anywhere
    worker.stop(signal.SIGKILL)  # the worker dies while the retry waits
    start_worker(concurrency=1)
    assert future.result(timeout=30) == 2
    assert rt.client.zscore(rt.store.keys.due, future.id) is None


def test_without_a_beat_a_delayed_retry_still_runs(tc_env: dict[str, Any],
                                                   start_worker: Any) -> None:
    rt = get_runtime()
    start_worker(concurrency=1)
    future = t.slow_retry.delay("eta-retry")
    assert future.result(timeout=30) == 2
    assert rt.client.zcard(rt.store.keys.due) == 0


def test_beat_wakes_for_a_due_run_long_before_its_interval(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    rt = get_runtime()
    start_worker(concurrency=1)
    start_beat(beat_interval_seconds="30")
    wait_until(lambda: rt.client.exists(rt.store.keys.lock("beat")), 20, 0.05,
               "beat to take its lock")
    time.sleep(0.5)  # beat is now asleep for up to 30 s
    started = time.monotonic()
    future = t.add.apply_async((2, 3), countdown=0.5)
    assert future.result(timeout=20) == 5
    assert time.monotonic() - started < 10  # woken by the new due time, not the interval
    record = rt.store.get(future.id)
    assert record.scheduled_time is not None and record.start_time is not None
    assert record.start_time >= record.scheduled_time


def test_the_leader_keeps_its_lock_through_a_pass_longer_than_the_lock(
        tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    rt = get_runtime()
    ttl = rt.settings.beat_interval_seconds * 3
    in_pass = threading.Event()
    original = scheduler.tick

    def slow_tick(rt_: Any, now: Any, **options: Any) -> list[str]:
        if not in_pass.is_set():
            in_pass.set()
            time.sleep(ttl * 4)
        return original(rt_, now, **options)

    monkeypatch.setattr(scheduler, "tick", slow_tick)
    stop = threading.Event()
    thread = threading.Thread(target=run_beat, kwargs={"stop": stop, "loglevel": "WARNING"})
    thread.start()
    try:
        assert in_pass.wait(10)
        deadline = time.monotonic() + ttl * 3
        while time.monotonic() < deadline:  # a standby never gets the lock meanwhile
            assert not is_leader(rt, "standby:1")
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()


def test_two_beat_processes_at_once_fire_each_time_and_deferred_run_once(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    rt = get_runtime()
    f.pipeline.deploy("twice", work_pool_name=tc_env["queue"], interval=1,
                      parameters={"lat": 1}, catchup="all")
    start_worker(concurrency=2)
    beats = [start_beat(), start_beat()]
    deferred_runs = [t.count_calls.apply_async((f"once-{i}",), countdown=0.5 + i * 0.1)
                     for i in range(20)]
    time.sleep(4)
    assert all(b.poll() is None for b in beats)
    assert [x.result(timeout=20) for x in deferred_runs] == [1] * 20  # each ran exactly once
    store = rt.store
    runs = [r for r in store.get_many(store.list_ids("flow", limit=1000))
            if r.scheduled_time is not None]
    times = [r.scheduled_time for r in runs]
    assert len(times) >= 3 and len(times) == len(set(times))  # no time fired twice
    # a beat may take over a second to start, and the first time follows its first pass
    wait_until(lambda: min(times) < utcnow() - timedelta(seconds=2), 5, 0.05,
               "the first scheduled time to be 2 s past")
    past = [r for r in runs if r.scheduled_time and r.scheduled_time < utcnow()
            - timedelta(seconds=2)]
    wait_until(lambda: all(store.get(r.id).state == S.COMPLETED for r in past), 20, 0.1,
               "past scheduled runs to complete")
    assert {store.get(r.id).attempt for r in past} == {1}  # each started once


def test_a_run_due_again_while_it_is_sent_keeps_its_new_due_time(
        tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    rt = get_runtime()
    future = t.add.apply_async((1, 2), countdown=0.05)
    time.sleep(0.1)
    later = time.time() + 60
    original = deferred.send_due

    def send_then_fail_again(rt_: Any, records: Any) -> None:
        original(rt_, records)  # meanwhile a worker ran it, it failed, its retry is due later
        rt_.client.zadd(rt_.store.keys.due, {future.id: later})

    monkeypatch.setattr(deferred, "send_due", send_then_fail_again)
    assert deferred.tick(rt, utcnow()) == [future.id]
    assert rt.client.zscore(rt.store.keys.due, future.id) == pytest.approx(later)
