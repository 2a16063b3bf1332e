"""Beat: schedules fire once, deferred runs survive, two beats never double-fire."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from datetime import timedelta
from typing import Any

from beat import deferred, scheduler
from beat.main import is_leader
from tasks_core import StateName
from tasks_core.process_runtime import get_runtime
from tasks_core.store.runs import utcnow
from tests.helpers import wait_until
from tests.integration import sample_flows as f
from tests.integration import sample_tasks as t

S = StateName


def _flow_runs() -> list[Any]:
    store = get_runtime().store
    return store.get_many(store.list_ids("flow", limit=1000))


def test_schedule_times_are_created_exactly_once(tc_env: dict[str, Any]) -> None:
    f.pipeline.deploy("every-minute", work_pool_name=tc_env["queue"], interval=60,
                      parameters={"lat": 1})
    rt = get_runtime()
    now = utcnow()
    created = scheduler.tick(rt, now)
    assert len(created) == rt.settings.schedule_horizon_seconds // 60
    assert scheduler.tick(rt, now) == []  # the same times again: nothing new
    runs = _flow_runs()
    assert len(runs) == len(created) and {r.state for r in runs} == {S.SCHEDULED}
    assert len({r.scheduled_time for r in runs}) == len(runs)


def test_two_beats_ticking_at_once_do_not_double_fire(tc_env: dict[str, Any]) -> None:
    f.pipeline.deploy("race", work_pool_name=tc_env["queue"], interval=30,
                      parameters={"lat": 1})
    rt = get_runtime()
    now = utcnow()
    barrier = threading.Barrier(4)
    results: list[list[str]] = []

    def beat() -> None:
        barrier.wait()
        results.append(scheduler.tick(rt, now))

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [run_id for batch in results for run_id in batch]
    assert len(created) == len(set(created)) == len(_flow_runs())
    assert len({r.scheduled_time for r in _flow_runs()}) == len(_flow_runs())


def test_due_runs_are_sent_and_late_ones_marked(tc_env: dict[str, Any],
                                                start_worker: Any) -> None:
    rt = get_runtime()
    future = t.add.apply_async((2, 2), countdown=0.3)
    assert future.state == S.SCHEDULED and rt.client.zcard(rt.store.keys.due) == 1
    assert deferred.tick(rt, utcnow()) == []  # not due yet
    start_worker(concurrency=1)
    time.sleep(0.35)
    assert deferred.tick(rt, utcnow()) == [future.id]
    assert future.result(timeout=20) == 4 and rt.client.zcard(rt.store.keys.due) == 0
    late = t.add.apply_async((1, 1), countdown=1)
    later = utcnow() + timedelta(seconds=1 + rt.settings.late_after_seconds + 1)
    rt.client.zrem(rt.store.keys.due, late.id)  # pretend beat was down: not sent yet
    deferred.tick(rt, later)
    assert late.state == S.LATE


def test_one_leader_and_a_standby_takes_over(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    assert is_leader(rt, "a:1") and not is_leader(rt, "b:2") and is_leader(rt, "a:1")
    ttl = rt.settings.beat_interval_seconds * 3
    wait_until(lambda: is_leader(rt, "b:2"), ttl + 2, 0.1, "the standby to take over")


def test_beat_killed_and_restarted_loses_and_repeats_nothing(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    f.pipeline.deploy("fast", work_pool_name=tc_env["queue"], interval=1,
                      parameters={"lat": 1}, catchup="all")
    start_worker(concurrency=2, pool=tc_env["queue"])
    first = start_beat()
    wait_until(lambda: len([r for r in _flow_runs() if r.state == S.COMPLETED]) >= 2, 30, 0.2,
               "scheduled runs to complete")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    time.sleep(2)  # two scheduled times pass while no beat runs
    start_beat()
    time.sleep(3)
    runs = _flow_runs()
    times = sorted(r.scheduled_time for r in runs if r.scheduled_time)
    assert len(times) == len(set(times))  # no time fired twice
    past = [x for x in times if x < utcnow() - timedelta(seconds=2)]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(past)]
    assert gaps and max(gaps) <= 1.0 + 1e-6  # catchup="all": no time was lost
    wait_until(lambda: all(r.state == S.COMPLETED for r in _flow_runs()
                           if r.scheduled_time and r.scheduled_time < utcnow()
                           - timedelta(seconds=3)), 20, 0.2, "past runs to complete")


def test_redeploying_other_schedules_cancels_the_old_queued_runs(tc_env: dict[str, Any]) -> None:
    f.pipeline.deploy("change", work_pool_name=tc_env["queue"], interval=60,
                      parameters={"lat": 1})
    rt = get_runtime()
    old = scheduler.tick(rt, utcnow())
    assert old
    f.pipeline.deploy("change", work_pool_name=tc_env["queue"], interval=600,
                      parameters={"lat": 1})
    store = rt.store
    assert {store.get(run_id).state for run_id in old} == {S.CANCELLED}
    assert rt.client.zcard(rt.store.keys.due) == 0
    new = scheduler.tick(rt, utcnow())
    assert new and len(new) == rt.settings.schedule_horizon_seconds // 600
