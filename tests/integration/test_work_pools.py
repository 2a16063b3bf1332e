"""Work pools: pause/resume and concurrency limits gate flow runs; nothing is lost."""

from __future__ import annotations

import json
import threading
from typing import Any

from tasks_core import StateName
from tasks_core.deployments import run_deployment
from tasks_core.runtime import get_runtime
from tasks_core.work_pools import (
    create_pool,
    pause_pool,
    pool_store,
    resume_pool,
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
    events = [json.loads(e["event"])["event"]
              for _, e in tc_env["client"].xrange(f"{tc_env['prefix']}:events")]
    assert "tasks-core.work-pool.paused" in events and "tasks-core.work-pool.resumed" in events


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
    events = [json.loads(e["event"]) for _, e in
              tc_env["client"].xrange(f"{tc_env['prefix']}:events")]
    mine = [e["event"] for e in events
            if e["resource"]["tasks-core.resource.id"] == f"tasks-core.work-pool.{pool}"]
    assert mine[-2:] == ["tasks-core.work-pool.ready", "tasks-core.work-pool.not-ready"]
