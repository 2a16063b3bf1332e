"""Work pools: pause/resume (of a pool or one of its work queues) and concurrency limits
gate flow runs; nothing is lost."""

from __future__ import annotations

import json
import threading
from typing import Any

from tasks_core import StateName
from tasks_core.deployments import run_deployment
from tasks_core.process_runtime import get_runtime
from tasks_core.run_event_codec import entry_text
from tasks_core.work_pools import (
    create_pool,
    pause_pool,
    pause_queue,
    pool_store,
    resume_pool,
    resume_queue,
    set_concurrency,
)
from tests.helpers import wait_until
from tests.integration import sample_flows as f

S = StateName


def test_a_paused_pool_holds_runs_and_resuming_starts_them(tc_env: dict[str, Any],
                                                           start_worker: Any) -> None:
    pool = tc_env["queue"]
    create_pool(pool)
    f.pipeline.deploy("p", work_pool_name=pool)
    start_worker(concurrency=2, pool=pool)
    pause_pool(pool)
    runs = [run_deployment("pipeline/p", parameters={"lat": i}, timeout=0) for i in range(3)]
    wait_until(lambda: len(pool_store().parked(pool)) == 3, 20, 0.1, "the runs to be parked")
    store = get_runtime().store
    assert {store.get(r.id).state for r in runs} == {S.PENDING}
    assert len(resume_pool(pool)) == 3
    for run in runs:
        assert store.wait(run.id, 30) and store.get(run.id).state == S.COMPLETED
    events = [json.loads(entry_text(e) or "")["event"]
              for _, e in tc_env["client"].xrange(f"{tc_env['prefix']}:events")]
    assert "tasks-core.work-pool.paused" in events and "tasks-core.work-pool.resumed" in events


def test_a_paused_work_queue_holds_only_its_runs_and_resuming_starts_them(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    pool = tc_env["queue"]
    create_pool(pool)
    f.pipeline.deploy("hi", work_pool_name=pool, work_queue_name="high")
    f.pipeline.deploy("lo", work_pool_name=pool, work_queue_name="low")
    f.pipeline.deploy("own", work_pool_name=pool)  # the pool's own queue
    start_worker(concurrency=2, pool=pool, extra=("-Q", f"{pool}:high,{pool}:low"))
    record = pause_queue(pool, "high")
    assert (record.paused, record.paused_queues) == (False, ["high"])
    held = run_deployment("pipeline/hi", parameters={"lat": 1}, timeout=0)
    low = run_deployment("pipeline/lo", parameters={"lat": 2}, timeout=0)
    own = run_deployment("pipeline/own", parameters={"lat": 3}, timeout=0)
    store = get_runtime().store
    for run in (low, own):  # the same pool's other queue and its own queue go on
        assert store.wait(run.id, 30) and store.get(run.id).state == S.COMPLETED
    wait_until(lambda: pool_store().parked(pool) == [held.id], 20, 0.1, "the run parked")
    assert store.get(held.id).state == S.PENDING and store.get(held.id).queue == f"{pool}:high"
    assert resume_queue(pool, "high") == [held.id]
    assert store.wait(held.id, 30) and store.get(held.id).state == S.COMPLETED
    assert pool_store().get(pool).paused_queues == [] and pool_store().parked(pool) == []
    get_runtime().emitter.flush()
    events = [json.loads(entry_text(e) or "")
              for _, e in tc_env["client"].xrange(f"{tc_env['prefix']}:events")]
    mine = [e for e in events if e["event"].startswith("tasks-core.work-queue.")]
    assert [e["event"] for e in mine] == ["tasks-core.work-queue.paused",
                                          "tasks-core.work-queue.resumed"]
    for event in mine:
        assert event["resource"] == {"tasks-core.resource.id":
                                     f"tasks-core.work-queue.{pool}:high",
                                     "tasks-core.resource.name": "high"}
        assert event["related"] == [{"tasks-core.resource.id": f"tasks-core.work-pool.{pool}",
                                     "tasks-core.resource.name": pool,
                                     "tasks-core.resource.role": "work-pool"}]


def test_a_freed_slot_goes_to_a_run_no_paused_queue_holds(tc_env: dict[str, Any]) -> None:
    pool = tc_env["queue"]
    create_pool(pool, concurrency_limit=1)
    f.pipeline.deploy("hi", work_pool_name=pool, work_queue_name="high")
    f.pipeline.deploy("lo", work_pool_name=pool, work_queue_name="low")
    pause_queue(pool, "high")
    store = pool_store()
    # no worker serves these queues: the gate is driven here, as a worker would
    held, first, waiting = (
        run_deployment(name, parameters={"lat": 1}, timeout=0, as_subflow=False).id
        for name in ("pipeline/hi", "pipeline/lo", "pipeline/lo"))
    assert store.acquire(pool, held, "high") is False  # parked first: oldest
    assert store.acquire(pool, first, "low") is True
    assert store.acquire(pool, waiting, "low") is False  # the pool is full
    assert store.parked(pool) == [held, waiting]
    assert store.release(pool, first) == [waiting]  # not the held one, oldest as it is
    assert store.acquire(pool, waiting, "low") is True
    assert store.release(pool, waiting) == []  # only a held run is left: none to send
    assert store.parked(pool) == [held] and store.running(pool) == []
    store.set_queue_paused(pool, "high", False)
    assert store.release(pool, "gone") == [held]  # resumed: the oldest again


def test_pausing_queues_at_once_loses_none(tc_env: dict[str, Any]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = tc_env["queue"]
    create_pool(pool, concurrency_limit=3)
    store = pool_store()
    names = [f"q{i}" for i in range(24)]
    with ThreadPoolExecutor(8) as threads:
        list(threads.map(lambda q: store.set_queue_paused(pool, q, True), names))
    assert store.get(pool).paused_queues == sorted(names)
    with ThreadPoolExecutor(8) as threads:
        list(threads.map(lambda q: store.set_queue_paused(pool, q, False), names[::2]))
    record = store.get(pool)
    assert record.paused_queues == sorted(names[1::2]) and record.concurrency_limit == 3


def test_a_concurrency_limit_caps_running_flow_runs(tc_env: dict[str, Any],
                                                    start_worker: Any) -> None:
    pool = tc_env["queue"]
    create_pool(pool, concurrency_limit=1)
    f.pipeline.deploy("p", work_pool_name=pool)
    start_worker(concurrency=3, pool=pool)
    store = get_runtime().store
    peak = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak.append(len(pool_store().running(pool)))

    watcher = threading.Thread(target=watch)
    watcher.start()
    runs = [run_deployment("pipeline/p", parameters={"lat": i}, timeout=0) for i in range(4)]
    try:
        for run in runs:
            assert store.wait(run.id, 60) and store.get(run.id).state == S.COMPLETED
    finally:
        done.set()
        watcher.join()
    assert max(peak) == 1
    set_concurrency(pool, None)


def test_a_full_pool_still_runs_a_waiting_parents_child(tc_env: dict[str, Any],
                                                       start_worker: Any) -> None:
    pool = tc_env["queue"]
    create_pool(pool, concurrency_limit=1)
    f.pipeline.deploy("my-first-managed-deployment", work_pool_name=pool)
    f.run_deployment_from_flow.deploy("outer", work_pool_name=pool)
    start_worker(concurrency=2, pool=pool)
    run = run_deployment("run-deployment-from-flow/outer", timeout=60)
    assert run.state == S.COMPLETED and run.result() == 3.0


def test_pool_readiness_follows_its_workers(tc_env: dict[str, Any], start_worker: Any) -> None:
    import signal

    from beat import pools
    from tasks_core.store.runs import utcnow

    pool = tc_env["queue"]
    rt = get_runtime()
    assert pools.tick(rt, utcnow()).get(pool) in (None, False)
    worker = start_worker(concurrency=1, pool=pool)
    wait_until(lambda: pools.tick(rt, utcnow()).get(pool) is True, 10, 0.2, "pool ready")
    worker.stop(signal.SIGKILL)
    wait_until(lambda: pools.tick(rt, utcnow()).get(pool) is False, 15, 0.2, "pool not ready")
    rt.emitter.flush()  # pool events go through the buffered event client
    events = [json.loads(entry_text(e) or "") for _, e in
              tc_env["client"].xrange(f"{tc_env['prefix']}:events")]
    mine = [e["event"] for e in events
            if e["resource"]["tasks-core.resource.id"] == f"tasks-core.work-pool.{pool}"]
    assert mine[-2:] == ["tasks-core.work-pool.ready", "tasks-core.work-pool.not-ready"]
