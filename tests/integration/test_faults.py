"""Crashes, lost messages and bad input, against real Redis and real worker processes."""

from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta
from typing import Any

import pytest

from beat import sweeper
from tasks_core import StateName, task, wait_all
from tasks_core.errors import (
    CrashedRun,
    ParameterError,
    ResultError,
    StoreUnavailable,
    TaskNotFound,
)
from tasks_core.process_runtime import get_runtime
from tasks_core.settings import Settings
from tasks_core.store.connection import connect
from tasks_core.store.runs import Transition, utcnow
from tests.helpers import free_port, record_of, wait_until
from tests.integration import sample_tasks as t

S = StateName


def _pid_of(tc_env: dict[str, Any], key: str) -> int:
    value = wait_until(lambda: tc_env["client"].get(f"{tc_env['prefix']}:pid:{key}"), 20,
                       message="the task to start")
    return int(value)


def test_sigkill_mid_task_ends_crashed(tc_env: dict[str, Any], start_worker: Any) -> None:
    worker = start_worker(concurrency=2)
    future = t.record_pid_and_sleep.delay("k1", 30)
    os.kill(_pid_of(tc_env, "k1"), signal.SIGKILL)
    with pytest.raises(CrashedRun, match="died during attempt 1"):
        future.result(timeout=20)
    assert t.add.delay(1, 1).result(timeout=20) == 2  # the worker replaced its child
    assert worker.proc.poll() is None


def test_sigkill_mid_task_is_retried_when_allowed(tc_env: dict[str, Any],
                                                  start_worker: Any) -> None:
    start_worker(concurrency=2)
    future = t.record_pid_and_sleep_retry.delay("k2", 30)
    os.kill(_pid_of(tc_env, "k2"), signal.SIGKILL)
    assert future.result(timeout=20) == "survived"
    history = [h.name for h in future.record().history]
    assert history[-3:] == [S.AWAITING_RETRY, S.RETRYING, S.COMPLETED]


def test_whole_worker_killed_then_sweeper_recovers(tc_env: dict[str, Any],
                                                   start_worker: Any) -> None:
    worker = start_worker(concurrency=1)
    future = t.record_pid_and_sleep.delay("k3", 30)
    _pid_of(tc_env, "k3")
    worker.stop(signal.SIGKILL)
    rt = get_runtime()
    # The heartbeat expires within heartbeat_timeout (2 s in tests); the sweeper then acts.
    wait_until(lambda: sweeper.tick(rt, utcnow()).crashed, 15, 0.2, "the sweeper to recover")
    assert future.wait(timeout=5) == S.CRASHED


def test_lost_message_is_resent_by_the_sweeper(tc_env: dict[str, Any], start_worker: Any) -> None:
    rt = get_runtime()
    run = record_of(t.add, '{"x":2,"y":3}', state=S.PENDING, queue=tc_env["queue"])
    rt.store.create(run)  # a record whose message never reached the broker
    assert sweeper.tick(rt, utcnow()).resent == []  # not stale yet
    start_worker()
    later = utcnow() + timedelta(seconds=rt.settings.pending_resend_seconds + 1)
    assert sweeper.tick(rt, later).resent == [run.id]
    assert rt.store.wait(run.id, 20)
    assert rt.store.get(run.id).state == S.COMPLETED
    assert rt.store.result_json(run.id) == "5"


def test_sweeper_counts_messages_on_priority_lists_as_a_busy_queue(
        tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    queue, client = tc_env["queue"], tc_env["client"]
    run = record_of(t.add, '{"x":2,"y":3}', state=S.PENDING, queue=queue)
    rt.store.create(run)  # a record whose message never reached the broker
    later = utcnow() + timedelta(seconds=rt.settings.pending_resend_seconds + 1)
    urgent = rt.store.keys.broker_queue(queue, 9)  # kombu's list for priority 9, not the queue's
    client.lpush(urgent, "a message of another run, waiting")
    try:
        assert rt.queues.depth(queue) == 1
        assert sweeper.tick(rt, later).resent == []  # busy: its message may be behind it
    finally:
        client.delete(urgent)
    assert sweeper.tick(rt, later).resent == [run.id]  # now the queue is empty
    assert client.llen(rt.store.keys.broker_queue(queue)) == 1


def test_unknown_task_fails_the_run_clearly(tc_env: dict[str, Any], start_worker: Any) -> None:
    @task
    def only_here() -> int:
        return 1

    start_worker()
    future = only_here.delay()
    with pytest.raises(TaskNotFound, match="not known to this worker"):
        future.result(timeout=20)
    assert future.state == S.FAILED
    assert t.add.delay(3, 3).result(timeout=20) == 6


def test_pickled_message_is_refused_not_executed(tc_env: dict[str, Any],
                                                 start_worker: Any) -> None:
    worker = start_worker()
    future = t.count_calls.delay("pickle-warmup")
    future.wait(timeout=20)
    rt = get_runtime()
    with rt.app.connection_for_write() as conn:  # the stack's prefixed broker keys
        producer = conn.Producer(serializer="pickle")
        producer.publish(
            [[future.id, 1], {}, {}], routing_key=tc_env["queue"],
            headers={"lang": "py", "task": "tasks_core.run", "id": "evil", "retries": 0,
                     "timelimit": [None, None], "root_id": "evil", "parent_id": None})
    wait_until(lambda: "ContentDisallowed" in worker.output()
               or "disallowed" in worker.output().lower(), 20, message="the refusal log")
    assert t.add.delay(1, 2).result(timeout=20) == 3
    (entry,) = rt.deadletters.entries()  # set aside, not dropped
    assert entry.message_id == "evil" and "ContentDisallowed" in entry.reason
    assert tc_env["client"].get(f"{tc_env['prefix']}:test-counter:pickle-warmup") == "1"


def test_results_that_cannot_be_stored_fail_the_run(tc_env: dict[str, Any],
                                                    start_worker: Any) -> None:
    start_worker()
    with pytest.raises(ResultError, match="object has no JSON form"):
        t.not_json.delay().result(timeout=20)
    limit = get_runtime().settings.result_max_bytes
    with pytest.raises(ResultError, match="over the limit"):
        t.huge.delay(limit + 10).result(timeout=20)
    assert len(t.huge.delay(100).result(timeout=20)) == 100


def test_bad_arguments_raise_at_the_caller(tc_env: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="missing a required argument: 'y'"):
        t.add.delay(1)
    with pytest.raises(TypeError, match="parameter 'x' of task 'add' has no JSON form"):
        t.add.delay(object(), 3)
    with pytest.raises(ParameterError, match="x: Input should be a valid integer"):
        t.add.delay("one", 3)  # refused as the worker would refuse it
    with pytest.raises(ParameterError, match="over the limit"):
        t.huge.delay("x" * (get_runtime().settings.parameters_max_bytes + 1))
    assert get_runtime().store.list_ids() == []  # nothing was recorded or sent


def test_unreachable_redis_names_the_url() -> None:
    port = free_port()
    settings = Settings(redis_url=f"redis://:secret@127.0.0.1:{port}/0")
    with pytest.raises(StoreUnavailable, match=rf"127\.0\.0\.1:{port}") as info:
        connect(settings, retries=1)
    assert "secret" not in str(info.value)


def test_worker_warns_when_redis_evicts(tc_env: dict[str, Any], start_worker: Any) -> None:
    client = tc_env["client"]
    client.config_set("maxmemory-policy", "allkeys-lru")
    try:
        worker = start_worker(concurrency=1)
        wait_until(lambda: "maxmemory-policy is 'allkeys-lru'" in worker.output(), 20,
                   message="the eviction warning")
    finally:
        client.config_set("maxmemory-policy", "noeviction")


def test_graceful_stop_loses_no_state(tc_env: dict[str, Any], start_worker: Any) -> None:
    futures = [t.add.delay(i, 1) for i in range(300)]
    worker = start_worker(concurrency=2)
    rt = get_runtime()
    wait_until(lambda: rt.client.zcard(rt.store.keys.state_index("task", S.COMPLETED)) > 20, 20)
    worker.stop(signal.SIGTERM, group=False)  # a warm shutdown, as a service manager does
    assert worker.proc.returncode is not None
    running = rt.client.zcard(rt.store.keys.state_index("task", S.RUNNING))
    assert running == 0, "a run was left Running after a graceful stop"
    start_worker(concurrency=2)
    # Messages a worker had prefetched are restored by kombu at shutdown; one caught in
    # Celery's Redis-transport window is re-sent by beat's sweeper, as in production.
    ids = [f.id for f in futures]

    def all_done() -> bool:
        sweeper.tick(rt, utcnow())
        return all(r.is_terminal for r in rt.store.get_many(ids))

    wait_until(all_done, 60, 0.5, "every run to finish")
    assert set(wait_all(futures, timeout=5)) == {S.COMPLETED}


def test_concurrent_reporters_cannot_corrupt_a_record(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    run = record_of(t.add, "{}", state=S.RUNNING)
    rt.store.create(run)
    targets = [S.COMPLETED, S.FAILED, S.CRASHED, S.TIMED_OUT] * 8
    outcomes: list[bool] = []
    barrier = threading.Barrier(len(targets))

    def race(target: StateName) -> None:
        barrier.wait()
        outcomes.append(rt.store.transition(Transition(run.id, target)).applied)

    threads = [threading.Thread(target=race, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(True) == 1
    record = rt.store.get(run.id)
    assert len(record.history) == 2 and record.is_terminal
    assert rt.client.zcard(rt.store.keys.state_index("task", S.RUNNING)) == 0

