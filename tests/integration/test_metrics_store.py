"""The reads behind `/metrics` on a real Redis: the duration histogram transition.lua counts
(its ISO time parsing in Lua, its buckets), runs by state and pool (exact, then sampled),
queue depths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, state_type
from tasks_core.store.metrics import DURATION_BUCKETS, UNKNOWN_POOL, RunCount
from tasks_core.store.runs import BrokerPush, Transition

T0 = datetime(2026, 2, 28, 23, 59, 58, 250_000, tzinfo=UTC)  # a month and a day boundary


@pytest.fixture
def rt(tc_env: dict[str, Any]) -> Runtime:
    return get_runtime()


def _run(run_id: str, *, queue: str | None = "pool-a:fast", kind: str = "task",
         state: StateName = StateName.RUNNING, start: datetime | None = T0) -> RunRecord:
    return RunRecord(id=run_id, kind=kind, name="t", state=state, state_type=state_type(state),
                     created=T0, start_time=start, queue=queue)  # type: ignore[arg-type]


def test_a_finished_run_is_counted_in_its_bucket_once(rt: Runtime) -> None:
    # started at T0 in UTC+02:00 notation: the Lua parser applies the offset
    plus_two = T0.astimezone(timezone(timedelta(hours=2)))
    rt.store.create(_run("d1", start=plus_two))
    rt.store.create(_run("d2", queue=None))
    rt.store.create(_run("d3", start=None, state=StateName.PENDING))  # never started
    rt.store.transition(Transition("d1", StateName.COMPLETED, at=T0 + timedelta(seconds=7)))
    rt.store.transition(Transition("d2", StateName.FAILED, at=T0 + timedelta(hours=3)))
    rt.store.transition(Transition("d3", StateName.CANCELLED, at=T0 + timedelta(seconds=1)))
    refused = rt.store.transition(Transition("d1", StateName.FAILED))  # already final
    assert not refused.applied

    series = {(s.kind, s.pool, s.state): s for s in rt.metrics.durations()}
    assert set(series) == {("task", "pool-a", "Completed"), ("task", "(none)", "Failed")}
    done = series[("task", "pool-a", "Completed")]
    assert done.count == 1 and done.total_seconds == pytest.approx(7.0, abs=1e-3)
    first = DURATION_BUCKETS.index(10.0)  # 7 s falls in (5, 10]
    assert done.buckets == tuple([0] * first + [1] * (len(DURATION_BUCKETS) + 1 - first))
    late = series[("task", "(none)", "Failed")]  # 3 h is over the last bound: +Inf only
    assert late.buckets[-2:] == (0, 1) and late.total_seconds == pytest.approx(10_800)


def test_runs_by_state_and_pool_exact_then_apportioned(rt: Runtime) -> None:
    rt.store.create_many([(_run(f"a{i}", queue="pool-a"), None) for i in range(6)]
                         + [(_run(f"b{i}", queue="pool-b:slow"), None) for i in range(3)]
                         + [(_run("f1", kind="flow", queue=None), None)])
    rt.client.delete(rt.store.keys.run("a0"))  # expired, still indexed
    counts = set(rt.metrics.run_counts())
    assert counts == {RunCount("task", "Running", "pool-a", 5, True),
                      RunCount("task", "Running", "pool-b", 3, True),
                      RunCount("task", "Running", UNKNOWN_POOL, 1, True),
                      RunCount("flow", "Running", "(none)", 1, True)}
    sampled = [c for c in rt.metrics.run_counts(sample=3) if c.kind == "task"]
    assert sum(c.count for c in sampled) == 9 and not any(c.exact for c in sampled)


def test_queue_depths_of_known_queues(rt: Runtime) -> None:
    keys = rt.store.keys
    rt.queues.push([BrokerPush(keys.broker_queue("pool-a", 0), "m1"),
                    BrokerPush(keys.broker_queue("pool-a", 9), "m2"),  # a priority list
                    BrokerPush(keys.broker_queue("unknown", 0), "m3")])
    depths = {(d.pool, d.queue): d.depth for d in rt.metrics.queue_depths(["pool-a", "idle"])}
    assert depths == {("pool-a", "pool-a"): 2, ("idle", "idle"): 0}
