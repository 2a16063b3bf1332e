"""Global concurrency limits, rate limits and task tag limits on the real test Redis and
real worker processes: slots are held across processes, a killed holder frees its slot
when its lease expires, tagged task runs wait (not fail) for a slot on every path."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from tasks_core import StateName, cancel_run, flow, task, wait_all
from tasks_core.concurrency import asyncio as aconc
from tasks_core.concurrency.limits import (
    ConcurrencyLimitNotFound,
    create_limit,
    delete_limit,
    list_limits,
    read_limit,
    reset_limit,
)
from tasks_core.concurrency.sync import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    concurrency,
    rate_limit,
)
from tasks_core.errors import ValidationError
from tests.helpers import wait_until
from tests.integration import limit_tasks as lt

pytestmark = pytest.mark.usefixtures("tc_env")

LIMIT_TASKS = ("tests.integration.limit_tasks",)


def _overlaps(intervals: list[list[float]]) -> int:
    """The most intervals running at one instant."""
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
                    key=lambda p: (p[0], p[1]))
    most = now = 0
    for _, step in points:
        now += step
        most = max(most, now)
    return most


def test_a_limit_of_two_lets_two_threads_in_at_once() -> None:
    create_limit("pair", 2)
    inside: list[int] = []
    most = [0]
    lock = threading.Lock()

    def work() -> None:
        with concurrency("pair", occupy=1):
            with lock:
                inside.append(1)
                most[0] = max(most[0], len(inside))
            time.sleep(0.15)
            with lock:
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert most[0] == 2
    limit = read_limit("pair")
    assert limit.active_slots == 0 and limit.holders == 0 and limit.denied_slots > 0


def test_slots_come_back_when_the_block_raises() -> None:
    create_limit("one", 1)
    with pytest.raises(RuntimeError), concurrency("one"):
        assert read_limit("one").slots_in_use == 1
        raise RuntimeError("boom")
    assert read_limit("one").slots_in_use == 0


def test_timeout_and_impossible_requests() -> None:
    create_limit("busy", 1)
    with concurrency("busy"):
        started = time.monotonic()
        with (
            pytest.raises(AcquireConcurrencySlotTimeoutError, match=r"not free within 0\.3"),
            concurrency("busy", timeout_seconds=0.3),
        ):
            pass
        assert 0.25 < time.monotonic() - started < 2
        assert isinstance(AcquireConcurrencySlotTimeoutError("x"), TimeoutError)
    with (
        pytest.raises(ConcurrencySlotAcquisitionError, match="cannot take 2 slots"),
        concurrency("busy", occupy=2),
    ):
        pass
    with (
        pytest.raises(ValidationError, match="occupy must be an integer >= 1"),
        concurrency("busy", occupy=0),
    ):
        pass


def test_several_limits_are_taken_together_or_not_at_all() -> None:
    create_limit("a", 1)
    create_limit("b", 1)
    with (
        concurrency("b"),
        pytest.raises(AcquireConcurrencySlotTimeoutError),
        concurrency(["a", "b"], timeout_seconds=0.2),
    ):
        pass
    assert read_limit("a").slots_in_use == 0  # "a" was not taken while "b" was full
    with concurrency(["a", "b"]):
        assert read_limit("a").slots_in_use == read_limit("b").slots_in_use == 1


def test_a_missing_limit_proceeds_with_a_warning_or_is_refused_when_strict(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tasks_core.concurrency"), concurrency("nowhere"):
        ran = True
    assert ran and "['nowhere'] do not exist" in caplog.text
    create_limit("here", 1)
    with (
        pytest.raises(ConcurrencySlotAcquisitionError, match="must be created before"),
        concurrency(["here", "nowhere"], strict=True),
    ):
        pass
    assert read_limit("here").slots_in_use == 0  # nothing held after the refusal


def test_rate_limit_spaces_calls_by_the_decay() -> None:
    create_limit("api", 1, slot_decay_per_second=5)  # one call every 0.2 s
    started = time.monotonic()
    for _ in range(4):
        rate_limit("api")
    took = time.monotonic() - started
    assert 0.5 < took < 3, took  # the first is free, three more wait ~0.2 s each
    create_limit("plain", 1)
    with pytest.raises(ConcurrencySlotAcquisitionError, match="has none"):
        rate_limit("plain")


def test_async_spellings() -> None:
    create_limit("async-one", 1)
    most = [0]
    inside = [0]

    async def one() -> None:
        async with aconc.concurrency("async-one"):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            await asyncio.sleep(0.1)
            inside[0] -= 1

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(4)))
        create_limit("async-rate", 2, slot_decay_per_second=10)
        await aconc.rate_limit("async-rate", occupy=2)

    asyncio.run(main())
    assert most[0] == 1


def test_manage_limits() -> None:
    create_limit("db", 3)
    with pytest.raises(ValidationError, match="already exists"):
        create_limit("db", 4)
    with pytest.raises(ValidationError, match="not valid"):
        create_limit("a/b", 1)
    with pytest.raises(ValidationError, match="limit must be an integer >= 1"):
        create_limit("zero", 0)
    with concurrency("db", occupy=2):
        assert read_limit("db").slots_in_use == 2
        assert reset_limit("db").slots_in_use == 0
    assert read_limit("db").slots_in_use == 0  # the reset lease gave nothing back twice
    assert [c.name for c in list_limits()] == ["db"]
    delete_limit("db")
    with pytest.raises(ConcurrencyLimitNotFound, match="'db' not found"):
        read_limit("db")


def test_a_killed_holder_frees_its_slot_when_its_lease_expires(
        tc_env: dict[str, Any]) -> None:
    create_limit("crashy", 1)
    code = ("import time\n"
            "from tasks_core.concurrency.sync import concurrency\n"
            "with concurrency('crashy', lease_duration=1.5):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], env=tc_env["env"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        time.sleep(2)  # longer than the lease: the live holder renews it
        assert read_limit("crashy").holders == 1
        with (
            pytest.raises(AcquireConcurrencySlotTimeoutError),
            concurrency("crashy", timeout_seconds=0.2),
        ):
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        started = time.monotonic()
        with concurrency("crashy", timeout_seconds=10):
            waited = time.monotonic() - started
        assert waited < 3, waited  # within the lease (1.5 s) of the kill, plus polling
    finally:
        if holder.poll() is None:
            holder.kill()


def test_two_workers_compete_for_one_slot(start_worker: Any) -> None:
    create_limit("shared", 1)
    start_worker(concurrency=2, imports=LIMIT_TASKS)
    start_worker(concurrency=2, imports=LIMIT_TASKS)
    futures = [lt.held_interval.delay("shared", 0.2) for _ in range(6)]
    assert set(wait_all(futures, timeout=60)) == {StateName.COMPLETED}
    intervals = [f.result() for f in futures]
    assert _overlaps(intervals) == 1, intervals


def test_tagged_task_runs_wait_for_the_tag_limit_on_workers(start_worker: Any) -> None:
    create_limit("tag:limited", 1)
    start_worker(concurrency=2, imports=LIMIT_TASKS)
    start_worker(concurrency=2, imports=LIMIT_TASKS)
    futures = [lt.tagged_interval.delay(0.2) for _ in range(4)]
    futures += [lt.tagged_interval_async.delay(0.2) for _ in range(2)]
    assert set(wait_all(futures, timeout=60)) == {StateName.COMPLETED}  # waited, not failed
    assert _overlaps([f.result() for f in futures]) == 1
    assert read_limit("tag:limited").slots_in_use == 0


def test_tagged_task_runs_wait_in_a_flow_and_in_direct_calls() -> None:
    create_limit("tag:limited", 2)

    @flow
    def fan_out() -> list[list[float]]:
        return [f.result() for f in [lt.tagged_interval.submit(0.15) for _ in range(6)]]

    intervals = fan_out()
    assert _overlaps(intervals) == 2, intervals
    assert lt.tagged_interval(0.01)  # a direct call takes (and gives back) a slot too
    assert read_limit("tag:limited").slots_in_use == 0


def test_an_untagged_task_is_not_limited() -> None:
    create_limit("tag:limited", 1)

    @task
    def free() -> int:
        return 1

    with concurrency("tag:limited"):  # the tag's only slot is taken
        assert free() == 1


def test_a_killed_worker_frees_its_tag_slot(tc_env: dict[str, Any], start_worker: Any) -> None:
    create_limit("tag:limited", 1)
    worker = start_worker(concurrency=1, imports=LIMIT_TASKS)
    stuck = lt.tagged_interval.delay(30)
    wait_until(lambda: read_limit("tag:limited").holders == 1, 20, 0.05, "the slot held")
    worker.stop(signal.SIGKILL)
    started = time.monotonic()
    with concurrency("tag:limited", timeout_seconds=15):  # heartbeat timeout in tests: 2 s
        waited = time.monotonic() - started
    assert waited < 6, waited
    assert stuck.id


def test_a_run_cancelled_while_it_waits_for_its_tag_slot_ends_cancelled(
        start_worker: Any) -> None:
    create_limit("tag:limited", 1)
    start_worker(concurrency=1, imports=LIMIT_TASKS)
    with concurrency("tag:limited"):  # the only slot, held here: the run waits
        waiting = lt.tagged_interval.delay(0.1)
        wait_until(lambda: read_limit("tag:limited").denied_slots > 0, 30, 0.05,
                   "the run to wait for its slot")
        assert waiting.state == StateName.RUNNING  # waiting, not failed
        cancel_run(waiting.id)
        assert wait_all([waiting], timeout=20) == [StateName.CANCELLED]
    assert read_limit("tag:limited").slots_in_use == 0


def test_an_acquire_sent_again_with_the_same_lease_counts_once(tc_env: dict[str, Any]) -> None:
    """redis-py sends a command again when the connection drops before its reply: an
    acquire Redis ran, sent again with the same lease id, must not take the slots twice
    (they would leak: the release gives back one share)."""
    from tasks_core.process_runtime import get_runtime

    store = get_runtime().concurrency_limits
    assert store.create("retried", 2, 0.0, "2026-11-30T00:00:00+00:00")
    assert store.acquire(["retried"], "lease-1", 1, 60_000, "concurrency").status == "ok"
    assert store.acquire(["retried"], "lease-1", 1, 60_000, "concurrency").status == "ok"
    record = store.read("retried")
    assert record is not None and float(record["active_slots"]) == 1.0
    assert store.acquire(["retried"], "lease-2", 1, 60_000, "concurrency").status == "ok"
    assert store.acquire(["retried"], "lease-3", 1, 60_000, "concurrency").status == "wait"
    assert store.release(["retried"], "lease-1") == 1
    record = store.read("retried")
    assert record is not None and float(record["active_slots"]) == 1.0
