"""The store classes of tasks_core/store/ against a real Redis: each script's contract.

Compare-and-set of the schedule index (set_looks.lua), remove-unchanged of the due set
(remove_unchanged.lua), the leader lock (renew_lock.lua), a work pool's gate
(acquire_slot.lua), and the plain reads and writes of the other stores.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tasks_core.engine import new_runs
from tasks_core.errors import StoreUnavailable
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.records import RunOptions
from tasks_core.states import StateName
from tasks_core.store.locks import BEAT_LOCK
from tasks_core.store.reporter import TRANSITION_GROUP
from tasks_core.store.runs import BrokerPush, Transition
from tasks_core.store.schedules import Look
from tasks_core.store.server import read_server_info
from tasks_core.work_pools import create_pool, pause_pool
from tests.helpers import free_port, wait_until


@pytest.fixture
def rt(tc_env: dict[str, Any]) -> Runtime:
    return get_runtime()


# -- schedule index -------------------------------------------------------------------------


def test_set_looks_changes_only_entries_unchanged_since_the_read(
        rt: Runtime, tc_env: dict[str, Any]) -> None:
    client, keys = tc_env["client"], rt.store.keys
    client.zadd(keys.schedules, {"a": 10.5, "b": 20, "c": 30, "late": 1e12})
    client.set(keys.schedule_mark("c"), "kept")
    read = rt.schedules.due(100, 10)
    assert read == [("a", "10.5"), ("b", "20"), ("c", "30")]  # raw scores, due ones only
    client.zadd(keys.schedules, {"b": 25})  # a deploy changed b after the read
    client.zadd(keys.deployment_scheduled("a"), {"sent": 50, "queued": 500})
    rt.schedules.set_looks([Look("a", "10.5", 400.0, "2026-01-01T00:00:00+00:00"),
                            Look("b", "20", 300.0, "lost"), Look("c", "30", None)],
                           sent_before=100)
    assert client.zscore(keys.schedules, "a") == 400.0
    assert client.zscore(keys.schedules, "b") == 25  # the deploy wins
    assert client.zscore(keys.schedules, "c") is None  # schedules ended: out of the index
    assert rt.schedules.marks(["a", "b", "c", "none"]) == [
        "2026-01-01T00:00:00+00:00", None, "kept", None]
    assert client.zrange(keys.deployment_scheduled("a"), 0, -1) == ["queued"]


def test_reset_puts_a_deployment_back_due_and_wakes_beat(rt: Runtime,
                                                         tc_env: dict[str, Any]) -> None:
    client, keys = tc_env["client"], rt.store.keys
    client.set(keys.schedule_mark("d"), "2026-01-01T00:00:00+00:00")
    wake = rt.due.subscribe()
    try:
        wake.wait(0.2)  # the subscription confirmation
        rt.schedules.reset("d", 5.0)
        assert wake.wait(5)
        assert not wake.wait(0.05)  # drained: one wake per burst
    finally:
        wake.close()
    assert client.zscore(keys.schedules, "d") == 5.0 and rt.schedules.marks(["d"]) == [None]
    rt.schedules.reset("d", None)
    assert client.zscore(keys.schedules, "d") is None


def test_queued_runs_of_a_deployment(rt: Runtime, tc_env: dict[str, Any]) -> None:
    tc_env["client"].zadd(rt.store.keys.deployment_scheduled("d"), {"r1": 1, "r2": 2})
    assert rt.schedules.queued_runs("d") == ["r1", "r2"]
    rt.schedules.forget_queued("d")
    assert rt.schedules.queued_runs("d") == []


# -- due set --------------------------------------------------------------------------------


def test_remove_unchanged_keeps_a_run_given_a_new_due_time(rt: Runtime,
                                                           tc_env: dict[str, Any]) -> None:
    client, due = tc_env["client"], rt.store.keys.due
    client.zadd(due, {"sent": 1.25, "retried": 2, "later": 1e12})
    read = rt.due.read(100, 10)
    assert read == [("sent", "1.25"), ("retried", "2")]
    client.zadd(due, {"retried": 3})  # failed again meanwhile: waits for its next retry
    rt.due.remove_unchanged(read)
    assert client.zrange(due, 0, -1, withscores=True) == [("retried", 3.0), ("later", 1e12)]
    assert rt.due.unsent(["retried", "sent", "later"]) == ["retried", "later"]
    assert rt.due.heads() == [3.0]  # no schedule looks
    tc_env["client"].zadd(rt.store.keys.schedules, {"dep": 7})
    assert rt.due.heads() == [3.0, 7.0]
    rt.due.remove(["retried", "later"])
    assert rt.due.read(1e13, 10) == [] and rt.due.heads() == [7.0]


def test_the_wake_subscription_times_out_quietly(rt: Runtime) -> None:
    wake = rt.due.subscribe()
    try:
        wake.wait(0.2)
        started = time.monotonic()
        assert not wake.wait(0.2)
        assert time.monotonic() - started >= 0.15
    finally:
        wake.close()


# -- leader lock ----------------------------------------------------------------------------


def test_lock_is_held_by_one_renewed_by_it_and_taken_when_it_lapses(rt: Runtime) -> None:
    locks = rt.locks
    assert not locks.held(BEAT_LOCK)
    assert not locks.hold(BEAT_LOCK, "a:1", 300, take=False)  # renew only: not taken
    assert not locks.held(BEAT_LOCK)
    assert locks.hold(BEAT_LOCK, "a:1", 300)
    assert not locks.hold(BEAT_LOCK, "b:2", 300)
    assert locks.hold(BEAT_LOCK, "a:1", 300, take=False)  # renewed
    assert locks.held(BEAT_LOCK)
    wait_until(lambda: locks.hold(BEAT_LOCK, "b:2", 300), 3, 0.05, "the lock to lapse")
    assert not locks.hold(BEAT_LOCK, "a:1", 300, take=False)


# -- work pools -----------------------------------------------------------------------------


def test_the_gate_admits_up_to_the_limit_and_parks_the_rest(rt: Runtime) -> None:
    pools = rt.pools
    assert pools.acquire("no-record", "r0")  # open, no limit
    create_pool("etl", concurrency_limit=2)
    assert pools.acquire("etl", "r1") and pools.acquire("etl", "r2")
    assert not pools.acquire("etl", "r3")  # full: parked
    assert pools.acquire("etl", "r1")  # a run holding a slot passes again
    assert pools.counts(["etl", "no-record"]) == [(2, 1), (0, 0)]
    assert pools.release("etl", "r1") == ["r3"]  # the next parked run, to send again
    assert pools.acquire("etl", "r3") and pools.parked("etl") == []
    assert pools.running("etl") == ["r2", "r3"]


def test_a_paused_pool_parks_every_run(rt: Runtime) -> None:
    create_pool("paused")
    pause_pool("paused")
    assert not rt.pools.acquire("paused", "r1") and not rt.pools.acquire("paused", "r2")
    assert rt.pools.parked("paused") == ["r1", "r2"]
    assert rt.pools.names() == ["paused"]


# -- heartbeats -----------------------------------------------------------------------------


def test_process_and_pool_heartbeats(rt: Runtime) -> None:
    procs = rt.procs
    procs.beat("host:1", 5000)
    procs.beat("host:2", 5000)
    assert procs.alive("host:1") and procs.count() == 2
    procs.clear("host:1")
    assert not procs.alive("host:1") and procs.count() == 1
    now = time.time()
    procs.pool_beat("etl", "w1", now)
    procs.pool_beat("etl", "w2", now - 5)
    procs.pool_beat("gone", "w3", now - 100)
    assert procs.pool_workers("etl", now, timeout=2) == ["w1"]
    assert sorted(procs.pools_with_workers()) == ["etl", "gone"]
    assert procs.pool_workers("gone", now, timeout=2) == []  # long silent: forgotten
    assert procs.pools_with_workers() == ["etl"]


def test_node_leases_one_holder_per_name(rt: Runtime) -> None:
    from tasks_core.nodes import NodeInfo

    nodes, now = rt.nodes, time.time()
    first = NodeInfo(node="etl@h", host="h", pid=1, pools=["etl"], queues=["etl"])
    assert nodes.hold(first, "h:1:a", 5000, now) == "h:1:a"
    assert nodes.hold(first, "h:1:a", 5000, now + 1) == "h:1:a"  # renewed by its holder
    other = first.model_copy(update={"pid": 2})
    assert nodes.hold(other, "h:2:b", 5000, now) == "h:1:a"  # refused: nothing written
    (status,) = nodes.list_nodes(now + 1, timeout=2)
    assert status.info == first and status.alive and status.last_seen == now + 1
    assert nodes.hold(other, "h:2:b", 5000, now, take_over="h:1:a") == "h:2:b"
    assert nodes.holder("etl@h") == "h:2:b"
    assert not nodes.release("etl@h", "h:1:a")  # not the holder: left alone
    assert nodes.release("etl@h", "h:2:b") and nodes.holder("etl@h") is None
    assert nodes.list_nodes(now, timeout=2) == []
    silent = NodeInfo(node="old@h", host="h", pid=3)
    nodes.hold(silent, "h:3:c", 1, now - 5)  # its lease lapses at once
    time.sleep(0.01)
    (status,) = nodes.list_nodes(now, timeout=2)
    assert status.info.node == "old@h" and not status.alive
    assert nodes.list_nodes(now + 100, timeout=2) == []  # long silent: forgotten


# -- idempotency keys, cache, counters --------------------------------------------------------


def test_an_idempotency_key_is_claimed_once(rt: Runtime) -> None:
    keys = rt.idempotency
    assert keys.get("dep", "k") is None
    assert keys.claim("dep", "k", "run-1", 60) is None
    assert keys.claim("dep", "k", "run-2", 60) == "run-1"
    assert keys.get("dep", "k") == "run-1"
    keys.release("dep", ["k", "other"])
    assert keys.claim("dep", "k", "run-2", 60) is None


def test_cache_and_counters(rt: Runtime, tc_env: dict[str, Any]) -> None:
    assert rt.cache.get("k") is None
    rt.cache.put("k", '{"v": 1}', 0)  # at least a second, never "no TTL"
    assert rt.cache.get("k") == '{"v": 1}'
    assert 0 < tc_env["client"].ttl(rt.store.keys.cache("k")) <= 1
    assert [rt.demo_counters.increment("c") for _ in range(3)] == [1, 2, 3]


# -- broker queues, run indexes, server ------------------------------------------------------


def test_queue_depth_counts_every_priority_list(rt: Runtime, tc_env: dict[str, Any]) -> None:
    queue = f"{tc_env['queue']}-depth"
    try:
        assert rt.queues.depth(queue) == 0
        keys = rt.store.keys
        rt.queues.push([BrokerPush(keys.broker_queue(queue, p), f"m{p}")
                        for p in (0, 4, 7, 9, 9)])
        assert tc_env["client"].llen(f"{tc_env['prefix']}:q:{queue}") == 1
        assert tc_env["client"].llen(queue) == 0  # never the bare name another stack uses
        assert rt.queues.depth(queue) == 5
    finally:
        tc_env["client"].delete(*rt.store.keys.broker_queues(queue))


def test_run_indexes_read_children_and_drop_expired_runs(rt: Runtime,
                                                         tc_env: dict[str, Any]) -> None:
    client, keys = tc_env["client"], rt.store.keys
    client.zadd(keys.children("p"), {"c1": 1, "c2": 2})
    assert rt.indexes.child_counts(["p", "none"]) == [2, 0]
    assert rt.indexes.children_of(["p", "none"]) == [["c1", "c2"], []]
    client.hset(keys.run("alive"), "state", "Running")
    client.zadd(keys.runs("task"), {"alive": 1, "expired": 2})
    client.zadd(keys.state_index("task", StateName.RUNNING), {"alive": 1, "expired": 2})
    assert rt.indexes.drop_expired("task", ["alive", "expired"]) == ["expired"]
    assert client.zrange(keys.runs("task"), 0, -1) == ["alive"]
    assert client.zrange(keys.state_index("task", StateName.RUNNING), 0, -1) == ["alive"]
    assert rt.indexes.drop_expired("task", []) == []


def test_server_info(rt: Runtime, tc_env: dict[str, Any]) -> None:
    assert rt.server.ping()
    assert rt.server.maxmemory_policy() == "noeviction"  # as the test server runs
    assert read_server_info(tc_env["url"], timeout=3)["maxmemory_policy"] == "noeviction"
    with pytest.raises(StoreUnavailable, match="cannot reach Redis"):
        read_server_info(f"redis://127.0.0.1:{free_port()}/0", timeout=1)


# -- a run's history, read from where a follower left off -----------------------------------


def test_history_since_reads_only_the_entries_not_seen_yet(rt: Runtime) -> None:
    from datetime import UTC, datetime

    from tasks_core.records import RunRecord
    from tasks_core.states import state_type
    from tasks_core.store.runs import Transition

    run = RunRecord(id="h1", kind="task", name="t", state=StateName.PENDING,
                    state_type=state_type(StateName.PENDING), created=datetime.now(UTC))
    assert rt.store.history_since("h1") == []  # no such run yet
    rt.store.create(run)
    assert [e.name for e in rt.store.history_since("h1")] == [StateName.PENDING]
    rt.store.transition(Transition("h1", StateName.RUNNING))
    rt.store.transition(Transition("h1", StateName.FAILED, message="boom"))
    entries = rt.store.history_since("h1", 1)
    assert [(e.name, e.message) for e in entries] == [
        (StateName.RUNNING, ""), (StateName.FAILED, "boom")]
    assert rt.store.history_since("h1", 3) == []


def _pending_runs(rt: Runtime, n: int) -> list[str]:
    runs = [new_runs.task_run(_Named(), "{}", RunOptions(), None, state=StateName.PENDING,
                              queue="q") for _ in range(n)]
    rt.store.create_many([(run, None) for run in runs])
    return [run.id for run in runs]


class _Named:
    name = key = "transitions-test"
    tags: tuple[str, ...] = ()
    task_run_name = None


def test_several_transitions_in_one_call_apply_each_and_fail_alone(rt: Runtime) -> None:
    ids = _pending_runs(rt, 3)
    store = rt.store
    calls = [store._transition_call(Transition(run_id, StateName.RUNNING, expected_attempt=0,
                                               fields={"attempt": "1"}, return_fields=("id",)))
             for run_id in ids]
    calls[1][1][7] = "{not json"  # the second change's fields: the script cannot read them
    keys = [key for each, _ in calls for key in each]
    args = [arg for _, each in calls for arg in each]
    first, second, third = store._transitions(keys=keys, args=args)
    assert first == [1, "id", ids[0]] and third == [1, "id", ids[2]]
    assert isinstance(second, Exception) and "invalid token" in str(second)
    assert [store.get(run_id).state for run_id in ids] == [
        StateName.RUNNING, StateName.PENDING, StateName.RUNNING]
    # through the reporter: one call for several changes, each with its own outcome
    again = rt.reporter.apply_now([
        Transition(ids[0], StateName.COMPLETED, expected_attempt=1, outcome=True),
        Transition(ids[1], StateName.COMPLETED, expected_attempt=1, outcome=True),
        Transition(ids[2], StateName.COMPLETED, expected_attempt=1, outcome=True)])
    assert [o.applied for o in again] == [True, False, True]
    assert again[1].state == StateName.PENDING


def test_many_changes_go_in_groups_each_with_its_outcome(rt: Runtime) -> None:
    """`apply_now` of more changes than `TRANSITION_GROUP` writes them in several script
    calls of one round trip (no one call holds Redis long); each keeps its own outcome, in
    order, and one refused among them is refused alone."""
    ids = _pending_runs(rt, 2 * TRANSITION_GROUP + 5)
    changes = [Transition(run_id, StateName.RUNNING, expected_attempt=0,
                          fields={"attempt": "1"}) for run_id in ids]
    changes[40].expected_attempt = 7  # refused: the run is at attempt 0
    outcomes = rt.reporter.apply_now(changes)
    assert [o.applied for o in outcomes] == [i != 40 for i in range(len(ids))]
    assert outcomes[40].state == StateName.PENDING and outcomes[40].attempt == 0
    states = [r.state for r in rt.store.get_many(ids)]
    assert states == [StateName.PENDING if i == 40 else StateName.RUNNING
                      for i in range(len(ids))]
