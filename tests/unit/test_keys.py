"""Key builders (pure): the layout of store/keys.py, and kombu's broker lists."""

from __future__ import annotations

import pytest

from tasks_core.dispatch import Envelope, redis_push
from tasks_core.store.keys import Keys, broker_queue, broker_queues

K = Keys("p")


@pytest.mark.parametrize("priority", range(10))
def test_broker_queue_is_the_list_a_message_is_pushed_onto(priority: int) -> None:
    envelope = Envelope.for_run("r", 1, queue="work", name="add", argsrepr="",
                                priority=priority)
    assert broker_queue("work", priority) == redis_push(envelope).key


def test_broker_queues_are_the_queue_and_each_priority_step() -> None:
    assert broker_queues("q") == ("q", "q\x06\x163", "q\x06\x166", "q\x06\x169")
    assert broker_queue("q") == "q" and broker_queue("q", 42) == "q\x06\x169"


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
