"""Redis full (maxmemory with noeviction: writes refused with OOM) while a worker runs:
what Redis refuses for now is kept and sent again, so every run still ends as it ended once
Redis takes writes again, and the worker lives on (`errors.StoreRefusing`)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from tasks_core import StateName
from tasks_core.process_runtime import get_runtime
from tests.helpers import wait_until
from tests.integration import sample_tasks as t
from tests.integration.test_redis_outage import DurableRedis, durable_redis  # noqa: F401

S = StateName


def test_runs_ending_while_redis_is_full_end_once_it_takes_writes_again(
        tc_env: dict[str, Any], durable_redis: DurableRedis,  # noqa: F811
        start_worker: Any) -> None:
    """Before, an attempt's outcome refused with OOM was rewritten stripped, which was
    refused too: the run stayed Running under its live worker, forever."""
    client = redis.Redis.from_url(durable_redis.url, decode_responses=True)
    worker = start_worker(concurrency=2, wait=False)
    worker.wait_ready(client, tc_env["prefix"])
    # more than the worker prefetches: its fetches meet the full Redis too
    futures = [t.nap.delay(1.0) for _ in range(12)]
    store = get_runtime().store
    wait_until(lambda: any(store.state_of(f.id) == S.RUNNING for f in futures), 20, 0.05,
               "a run to start")
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", 1)  # below what it holds: every write refused

    def completed() -> int:
        return sum(store.state_of(f.id) == S.COMPLETED for f in futures)
    try:
        time.sleep(0.3)  # a write already on its way lands
        before = completed()
        time.sleep(2.7)  # the running bodies (1 s) end meanwhile: their outcomes are refused
        assert completed() == before < len(futures)
    finally:
        client.config_set("maxmemory", 0)
    try:
        results = [f.result(timeout=60) for f in futures]
    except Exception as exc:
        raise AssertionError(worker.output()[-6000:]) from exc
    assert results == ["rested"] * 12
    for record in store.get_many([f.id for f in futures], history=True):
        assert (record.state, record.attempt, record.state_message) == (S.COMPLETED, 1, "")
        assert [h.name for h in record.history] == [S.PENDING, S.RUNNING, S.COMPLETED]
    assert worker.proc.poll() is None, worker.output()[-3000:]


def test_a_call_while_redis_is_full_gets_store_refusing_naming_it(
        tc_env: dict[str, Any], durable_redis: DurableRedis) -> None:  # noqa: F811
    """`.delay()` against a full Redis: after its publish retries, the caller gets
    StoreRefusing (a StoreUnavailable) saying where Redis is and what it answered; nothing
    is half-written, and the same call works once Redis takes writes again."""
    from tasks_core import StoreUnavailable
    from tasks_core.errors import StoreRefusing

    client = redis.Redis.from_url(durable_redis.url, decode_responses=True)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", 1)
    try:
        with pytest.raises(StoreRefusing) as raised:
            t.nap.apply_async((0.0,), retry=False)
        assert isinstance(raised.value, StoreUnavailable)
        assert durable_redis.url in str(raised.value) and "maxmemory" in str(raised.value)
    finally:
        client.config_set("maxmemory", 0)
    future = t.nap.apply_async((0.0,), retry=False)
    assert get_runtime().store.state_of(future.id) == S.PENDING
