"""Key builders (pure): the layout of store/keys.py, and kombu's broker lists."""

from __future__ import annotations

import pytest

from tasks_core.dispatch import Envelope, redis_push
from tasks_core.store.keys import Keys, kombu_queue

K = Keys("p")


@pytest.mark.parametrize("priority", range(10))
def test_broker_queue_is_the_list_a_message_is_pushed_onto(priority: int) -> None:
    envelope = Envelope.for_run("r", 1, queue="work", name="add", argsrepr="",
                                priority=priority)
    assert K.broker_queue("work", priority) == redis_push(envelope, K).key


def test_broker_queues_are_the_queue_and_each_priority_step_under_the_prefix() -> None:
    assert K.broker_prefix == "p:q:"
    assert K.broker_queues("q") == ("p:q:q", "p:q:q\x06\x163", "p:q:q\x06\x166",
                                    "p:q:q\x06\x169")
    assert K.broker_queue("q") == "p:q:q" and K.broker_queue("q", 42) == "p:q:q\x06\x169"
    assert kombu_queue("q", 4) == "q\x06\x163"  # what kombu names before its prefix


@pytest.mark.parametrize("pool", ["events", "run", "due", "deadletter", "work-pool", "default"])
def test_broker_keys_never_collide_with_our_own(pool: str) -> None:
    ours = {K.events, K.due, K.due_wake, K.schedules, K.work_pools, K.deployment_names,
            K.deadletters, K.deadletters_by_time, K.run("x"), K.lock("beat"), K.work_pool(pool)}
    assert all(not key.startswith(K.broker_prefix) for key in ours)
    assert K.broker_queue(pool) not in ours
    other = Keys("p2")
    assert not K.broker_queue(pool).startswith(other.broker_prefix)


def test_deadletter_keys() -> None:
    assert K.deadletters == "p:deadletter"
    assert K.deadletters_by_time == "p:deadletter:by-time"


def test_work_pool_keys() -> None:
    assert K.work_pools == "p:work-pools"
    assert K.work_pool("etl") == "p:work-pool:etl"
    assert K.work_pool_running("etl") == "p:work-pool:etl:running"
    assert K.work_pool_parked("etl") == "p:work-pool:etl:parked"
    assert K.work_pool_ready("etl") == "p:work-pool:etl:ready"
    assert K.work_pool_workers("etl") == "p:work-pool:etl:workers"
    assert K.work_pool_workers_pattern == "p:work-pool:*:workers"
    assert K.pool_of_workers_key(K.work_pool_workers("a:b")) == "a:b"


def test_other_keys() -> None:
    assert K.proc("host:1") == "p:proc:host:1" and K.proc_pattern == "p:proc:*"
    assert K.idempotency("d", "schedule:t") == "p:idem:d:schedule:t"
    assert K.demo_counter("prices") == "p:demo:prices"
    assert K.lock("beat") == "p:lock:beat"
    assert K.beat_clock == "p:beat:clock"


def test_automation_keys() -> None:
    assert K.automation("a1") == "p:automation:a1"
    assert K.automation_names == "p:automations"
    assert K.automations_owned("d1") == "p:automations:owned:d1"
    assert K.automation_changes == "p:automations:changes"
    ours = {K.automation("a1"), K.automation_names, K.automations_owned("d1"),
            K.automation_changes}
    assert len(ours) == 4 and not any(k.startswith(K.broker_prefix) for k in ours)
