"""A worker claims the runs of a `.map()` chunk in windows while they are short
(`tasks_core.engine.claim_ahead`), on a real Redis and real workers: every run ends with
its result; a run claimed ahead has its real start in its record; slow runs are claimed
one at a time, as with ``map_claim_ahead = 1``; a pool process killed mid-window leaves no
run Running: the window's runs are recovered and retried."""

from __future__ import annotations

import tempfile
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tasks_core import unmapped
from tasks_core.futures import TaskFuture
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName
from tests.helpers import wait_until
from tests.integration import claim_ahead_tasks as ct

IMPORTS = ("tests.integration.claim_ahead_tasks",)


def _records(futures: list[TaskFuture[Any]]) -> list[RunRecord]:
    store = get_runtime().store
    return [store.get(f.id) for f in futures]


def _claimed_at(record: RunRecord) -> datetime:
    return next(e.timestamp for e in record.history if e.name == StateName.RUNNING)


def _claimed_before_previous_ended(records: list[RunRecord]) -> int:
    """How many runs were claimed before the run before them (same chunk, one process)
    ended: claimed ahead."""
    return sum(1 for before, run in pairwise(records)
               if before.end_time is not None and _claimed_at(run) < before.end_time)


@pytest.mark.parametrize("task_name", ["echo", "echo_with_hook"])
def test_short_runs_are_claimed_ahead_with_their_real_start(tc_env: dict[str, Any],
                                                             start_worker: Any,
                                                             task_name: str) -> None:
    """Also for a task with hooks, whose outcomes are written at once (not with the next
    window's claims)."""
    start_worker(concurrency=1, imports=IMPORTS)
    futures = getattr(ct, task_name).map(range(100))
    assert [f.result(timeout=60) for f in futures] == list(range(100))
    records = _records(futures)
    assert all(r.state == StateName.COMPLETED and r.attempt == 1 for r in records)
    ahead = _claimed_before_previous_ended(records)
    assert ahead >= 50, f"only {ahead} of 100 runs claimed ahead"
    for record in records:
        assert record.start_time is not None and record.end_time is not None
        assert record.start_time <= record.end_time
    # a run claimed ahead started after its claim: its record says when
    moved = [r for r in records if r.start_time is not None and r.start_time > _claimed_at(r)]
    assert len(moved) >= 50


def test_slow_runs_are_claimed_one_at_a_time(tc_env: dict[str, Any],
                                             start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    futures = ct.nap.map(range(20))
    assert [f.result(timeout=60) for f in futures] == list(range(20))
    records = _records(futures)
    assert _claimed_before_previous_ended(records) == 0
    assert all(r.start_time is not None and r.start_time <= _claimed_at(r) for r in records)


def test_claim_ahead_off(tc_env: dict[str, Any], start_worker: Any) -> None:
    tc_env["env"]["TASKS_CORE_MAP_CLAIM_AHEAD"] = "1"
    start_worker(concurrency=1, imports=IMPORTS)
    futures = ct.echo.map(range(60))
    assert [f.result(timeout=60) for f in futures] == list(range(60))
    assert _claimed_before_previous_ended(_records(futures)) == 0


def test_a_process_killed_mid_window_leaves_no_run_running(tc_env: dict[str, Any],
                                                           start_worker: Any) -> None:
    worker = start_worker(concurrency=1, imports=IMPORTS)
    marker = Path(tempfile.mkdtemp()) / "killed"
    running = get_runtime().store.keys.state_index("task", StateName.RUNNING)
    futures = ct.die_once_when_claimed_ahead.map(range(100), marker=unmapped(str(marker)),
                                                 running_index=unmapped(running))
    assert [f.result(timeout=90) for f in futures] == list(range(100))
    killer = int(marker.read_text())
    records = _records(futures)
    assert all(r.state == StateName.COMPLETED for r in records)
    assert records[killer].attempt == 2
    recovered = [i for i, r in enumerate(records) if r.attempt == 2 and i != killer]
    assert recovered, "no run claimed with the killed one was recovered"
    assert "died" in worker.output() or "WorkerLostError" in worker.output()
    wait_until(lambda: not get_runtime().store.client.zcard(running), 10, 0.1,
               "no run left Running")


def test_runs_cancelled_mid_window_end_cancelled(tc_env: dict[str, Any],
                                                 start_worker: Any) -> None:
    """A cancel request for runs of a window: one claimed ahead (not started yet) does not
    call its body when it starts (the worker heard the request) and ends Cancelled; one
    whose body ended with its outcome not written yet has that outcome refused (Cancelling
    leads only to Cancelled) and ends Cancelled, not left Cancelling."""
    start_worker(concurrency=1, imports=IMPORTS)
    folder = Path(tempfile.mkdtemp())
    marker, ran = folder / "cancelled", folder / "ran"
    running = get_runtime().store.keys.state_index("task", StateName.RUNNING)
    futures = ct.cancel_others_once.map(range(100), marker=unmapped(str(marker)),
                                        running_index=unmapped(running),
                                        ran=unmapped(str(ran)))
    store = get_runtime().store
    wait_until(lambda: all(store.get(f.id).is_terminal for f in futures), 60, 0.2,
               "every run to end")
    canceller, *cancelled = marker.read_text().split()
    assert cancelled
    executed = {int(x) for x in ran.read_text().split()}
    ahead = 0
    for x, future in enumerate(futures):
        record = store.get(future.id)
        if future.id not in cancelled:
            assert record.state == StateName.COMPLETED, (record.state, record.state_message)
            continue
        assert record.state == StateName.CANCELLED, (record.state, record.state_message)
        if x > int(canceller):  # claimed ahead, not started when it was cancelled
            ahead += 1
            assert x not in executed, f"run {x} called its body after its cancel was heard"
        else:  # its body had ended
            assert record.state_message.startswith("cancelled; the attempt ended")
    assert ahead, "no run claimed ahead of the one that cancelled"


def test_an_error_mid_window_leaves_no_claimed_run_unrun(tc_env: dict[str, Any],
                                                         start_worker: Any) -> None:
    """A run of a window has no record and Redis refuses its dead letter (a key of the
    wrong type), so the worker rejects the chunk's message to have it again (Celery's
    Reject, requeued): the runs claimed with it still run and their outcomes are written
    first, so the redelivery does not find them Running and drop them as duplicates."""
    store = get_runtime().store
    client = tc_env["client"]
    futures = ct.echo.map(range(60))
    missing = futures[20].id
    client.delete(store.keys.run(missing))
    client.set(store.keys.deadletters, "not a hash")  # WRONGTYPE for the dead letter
    worker = start_worker(concurrency=1, imports=IMPORTS)
    wait_until(lambda: "Redis refused the dead letter" in worker.output(), 30, 0.1,
               "the chunk to be rejected")
    client.delete(store.keys.deadletters)
    others = [f for f in futures if f.id != missing]
    wait_until(lambda: all(store.get(f.id).is_terminal for f in others), 60, 0.2,
               "every other run to end")
    assert [f.result(timeout=10) for f in others] == [x for x in range(60) if x != 20]
    assert any(missing in e.reason for e in get_runtime().deadletters.entries())


def test_a_chunks_result_counts_runs_ended_cancelled_instead(tc_env: dict[str, Any]) -> None:
    """The chunk's Celery result (`chunk_summary`) counts a run whose outcome was refused
    because it was being cancelled, and which ended Cancelled instead, as cancelled (it
    counted it completed). The chunk runs here, in process: no worker hears the cancel, so
    every cancelled run's body runs and its outcome is refused."""
    from workers.execute import chunk_summary, execute_chunk

    folder = Path(tempfile.mkdtemp())
    store = get_runtime().store
    running = store.keys.state_index("task", StateName.RUNNING)
    futures = ct.cancel_others_once.map(range(40), marker=unmapped(str(folder / "marker")),
                                        running_index=unmapped(running),
                                        ran=unmapped(str(folder / "ran")))
    summary = chunk_summary(execute_chunk([f.id for f in futures]))
    states = [store.get(f.id).state for f in futures]
    cancelled = states.count(StateName.CANCELLED)
    assert cancelled and states.count(StateName.COMPLETED) == 40 - cancelled
    assert summary == f"{cancelled} cancelled, {40 - cancelled} completed", summary
