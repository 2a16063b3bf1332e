"""Retention on a real Redis with tiny TTLs: a finished run's keys expire by the TTL of the
state it ended in, beat's sweeper then prunes its index entries, and nothing of a run that
has not ended (or of a deployment's schedule) is touched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from beat import sweeper
from beat.pruning import prune
from tasks_core.canvas import chain, chord
from tasks_core.process_runtime import Runtime, get_runtime, reset_runtime
from tasks_core.records import RunRecord
from tasks_core.settings import reset_settings
from tasks_core.states import StateName, state_type
from tasks_core.store.runs import Transition
from tests.helpers import wait_until
from tests.integration import canvas_tasks as c

DONE_TTL, FAILED_TTL = 1, 3


@pytest.fixture
def rt(tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("TASKS_CORE_RUN_TTL_SECONDS", str(DONE_TTL))
    monkeypatch.setenv("TASKS_CORE_FAILED_RUN_TTL_SECONDS", str(FAILED_TTL))
    reset_settings()
    reset_runtime()
    yield get_runtime()


def _create(rt: Runtime, run_id: str, *, parent: str | None = None,
            state: StateName = StateName.RUNNING) -> None:
    rt.store.create(RunRecord(id=run_id, kind="task", name="t", state=state,
                              state_type=state_type(state), created=datetime.now(UTC),
                              parent_task_run_id=parent))


def _end(rt: Runtime, run_id: str, state: StateName) -> None:
    assert rt.store.transition(Transition(run_id, state, result_json="1"
                                          if state == StateName.COMPLETED else None)).applied


def _run_keys(rt: Runtime, run_id: str) -> list[str]:
    k = rt.store.keys
    return [k.run(run_id), k.logs(run_id), k.children(run_id)]


def _indexed(rt: Runtime, run_id: str) -> list[str]:
    """The run indexes of kind task that hold `run_id`."""
    client, k = rt.client, rt.store.keys
    names = [k.runs("task"), *(k.state_index("task", s) for s in StateName)]
    return [name for name in names if client.zscore(name, run_id) is not None]


def _log(rt: Runtime, run_id: str, text: str) -> None:
    rt.reporter.log(run_id, f'{{"message": "{text}"}}')
    rt.reporter.flush()


def _wait_gone(rt: Runtime, key: str, limit: float) -> float:
    start = time.monotonic()
    while rt.client.exists(key):
        assert time.monotonic() - start < limit, f"{key} still there after {limit}s"
        time.sleep(0.1)
    return time.monotonic() - start


def test_keys_expire_by_the_end_state_and_the_sweeper_prunes_their_index_entries(
        rt: Runtime) -> None:
    client, k = rt.client, rt.store.keys
    for run_id in ("done", "failed", "long", "child"):
        _create(rt, run_id, parent="done" if run_id == "child" else None)
    _log(rt, "done", "early")  # a live run's logs have no TTL
    assert client.ttl(k.logs("done")) == -1
    client.set(k.schedule_mark("dep"), "2026-01-01T00:00:00+00:00")
    client.zadd(k.deployment_scheduled("dep"), {"long": 1.0})
    _end(rt, "child", StateName.COMPLETED)
    _end(rt, "done", StateName.COMPLETED)
    _end(rt, "failed", StateName.FAILED)
    _log(rt, "failed", "late")  # written after the end: the record's remaining TTL
    assert 0 < client.ttl(k.logs("failed")) <= FAILED_TTL
    for key in _run_keys(rt, "done"):
        assert 0 < client.ttl(key) <= DONE_TTL, key
    assert not client.exists(k.done("done"))  # a channel: waiters are woken, nothing kept
    assert DONE_TTL < client.ttl(k.run("failed")) <= FAILED_TTL

    _wait_gone(rt, k.run("done"), DONE_TTL + 2)
    assert not any(client.exists(key) for key in _run_keys(rt, "done"))
    assert client.exists(k.run("failed"))  # a failed run outlives a completed one
    assert _indexed(rt, "done") == [k.runs("task"), k.state_index("task", "Completed")]

    report = sweeper.tick(rt, datetime.now(UTC))
    assert report.trimmed >= 4  # done and child: by time and by creation
    assert _indexed(rt, "done") == [] and _indexed(rt, "child") == []
    assert _indexed(rt, "failed") == [k.runs("task"), k.state_index("task", "Failed")]
    assert _indexed(rt, "long") == [k.runs("task"), k.state_index("task", "Running")]

    _wait_gone(rt, k.run("failed"), FAILED_TTL + 2)
    sweeper.tick(rt, datetime.now(UTC))
    assert _indexed(rt, "failed") == []
    assert not client.exists(k.logs("failed"))
    # a Running run older than every TTL keeps its record, logs and index entries; the
    # deployment's schedule mark and scheduled runs index have no TTL and stay
    assert client.hget(k.run("long"), "state") == "Running"
    assert client.ttl(k.run("long")) == -1
    assert _indexed(rt, "long") == [k.runs("task"), k.state_index("task", "Running")]
    assert client.ttl(k.schedule_mark("dep")) == -1
    assert client.zrange(k.deployment_scheduled("dep"), 0, -1) == ["long"]


def test_pruning_goes_past_live_runs_in_bounded_batches(rt: Runtime) -> None:
    """Old runs that have not ended sit at the head of the by-creation index: the cursor
    moves past them, so the expired ones behind them are still found."""
    client, k = rt.client, rt.store.keys
    old = time.time() - 100
    client.zadd(k.runs("task"), {f"live{i}": old + i for i in range(5)})
    client.zadd(k.runs("task"), {f"gone{i}": old + 10 + i for i in range(5)})
    for i in range(5):
        client.hset(k.run(f"live{i}"), "state", "Running")
        client.zadd(k.children(f"gone{i}"), {"c": 1.0})  # no TTL: deleted with its parent
    client.zadd(k.state_index("task", "Completed"),
                {"old1": old, "old2": old + 1, "new": time.time()})
    first = prune(rt, datetime.now(UTC), "task", batch=2, rounds=1)
    assert (first.by_time, first.checked, first.gone, first.rounds) == (2, 2, 0, 1)
    report = prune(rt, datetime.now(UTC), "task", batch=2, rounds=10)
    assert report.gone == 5 and report.rounds < 10
    assert client.zrange(k.runs("task"), 0, -1) == [f"live{i}" for i in range(5)]
    assert client.zrange(k.state_index("task", "Completed"), 0, -1) == ["new"]
    assert not any(client.exists(k.children(f"gone{i}")) for i in range(5))
    assert not client.exists(k.prune_cursor("task"))  # a finished pass starts over


def test_prune_batch_refuses_bad_arguments(rt: Runtime) -> None:
    with pytest.raises(ValueError, match="batch must be at least 1, got 0"):
        rt.indexes.prune_batch("task", runs_cutoff=0.0, state_cutoffs={}, batch=0)
    for state in ("Finished", "Running"):
        with pytest.raises(ValueError, match=f"terminal states only, not \\['{state}'\\]"):
            rt.indexes.prune_batch("task", runs_cutoff=0.0, state_cutoffs={state: 0.0},
                                   batch=1)


def test_canvas_steps_ended_by_a_failure_keep_the_failed_ttl(rt: Runtime) -> None:
    """No worker: the store ends the first step Failed; canvas_follow.lua ends the step
    waiting on it Failed too, with the failed TTL. A chord's join has no TTL until one of
    its header runs ends."""
    client, store = rt.client, rt.store
    result = chain(c.add.s(1, 1), c.add.s(2)).delay()
    first, second = result.parent.id, result.id
    assert store.transition(Transition(first, StateName.RUNNING)).applied
    assert store.transition(Transition(first, StateName.FAILED)).applied
    assert store.get(second).state == StateName.FAILED
    assert DONE_TTL < client.ttl(store.keys.run(second)) <= FAILED_TTL
    assert len(store.get(second).history) == 2  # created Paused (held), then Failed

    joined = chord([c.add.s(1, 0), c.add.s(2, 0)], c.tsum.s()).delay()
    [join] = client.scan_iter(f"{store.keys.prefix}:chord:*")
    assert client.ttl(join) == -1
    member = joined.parent.results[0].id
    assert store.transition(Transition(member, StateName.RUNNING)).applied
    assert store.transition(Transition(member, StateName.COMPLETED, result_json="1")).applied
    assert 0 < client.ttl(join) <= DONE_TTL


def test_a_resumed_pause_is_kept_until_its_run_ends(rt: Runtime) -> None:
    """The input a suspended flow's rerun reads has no TTL while the run goes on, then the
    run's own."""
    client, keys = rt.client, rt.store.keys
    _create(rt, "paused")
    rt.pauses.open("paused", '{"key": "k"}', time.time() + 60)
    assert rt.pauses.take("paused", input_json='{"x": 1}', key="k") == '{"key": "k"}'
    assert client.ttl(keys.pause_resumed("paused")) == -1
    assert rt.pauses.resumed("paused", "k") == '{"x": 1}'
    _end(rt, "paused", StateName.FAILED)
    assert DONE_TTL < client.ttl(keys.pause_resumed("paused")) <= FAILED_TTL


def test_a_running_beat_prunes_what_expired_and_keeps_a_live_run(
        rt: Runtime, start_beat: Any) -> None:
    """A real `tasks-core beat` with the same tiny TTLs: its sweeper prunes the index
    entries of ended runs once their records expired, and never touches a Running one."""
    client, k = rt.client, rt.store.keys
    for run_id in ("b-done", "b-failed", "b-live"):
        _create(rt, run_id)
    _end(rt, "b-done", StateName.COMPLETED)
    start_beat(run_ttl_seconds=str(DONE_TTL), failed_run_ttl_seconds=str(FAILED_TTL))
    wait_until(lambda: not _indexed(rt, "b-done"), DONE_TTL + 10,
               message="beat to prune the completed run")
    assert not client.exists(k.run("b-done"))
    _end(rt, "b-failed", StateName.CRASHED)
    ended = time.monotonic()
    wait_until(lambda: not _indexed(rt, "b-failed"), FAILED_TTL + 10,
               message="beat to prune the crashed run")
    assert time.monotonic() - ended > FAILED_TTL - 1  # not before its record expired
    assert not client.exists(k.run("b-failed"))
    assert client.hget(k.run("b-live"), "state") == "Running"
    assert _indexed(rt, "b-live") == [k.runs("task"), k.state_index("task", "Running")]
