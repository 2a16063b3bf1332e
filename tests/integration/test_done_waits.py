"""Waiting for a run's end on its done channel, on a real Redis: woken by the terminal
transition, nothing stored per run, one pub/sub connection per waiting thread."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tasks_core.errors import RunNotFound
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, state_type
from tasks_core.store.runs import Transition


def _create(rt: Runtime, run_id: str) -> None:
    rt.store.create(RunRecord(id=run_id, kind="task", name="t", state=StateName.RUNNING,
                              state_type=state_type(StateName.RUNNING),
                              created=datetime.now(UTC)))


def _end(rt: Runtime, run_id: str) -> None:
    assert rt.store.transition(Transition(run_id, StateName.COMPLETED, result_json="1")).applied


def _pubsub_clients(rt: Runtime) -> int:
    return sum(1 for c in rt.client.client_list() if int(c.get("sub", 0)) > 0
               or "subscribe" in c.get("cmd", ""))


def test_a_waiter_is_woken_by_the_end_and_nothing_is_stored(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    _create(rt, "w1")
    timer = threading.Timer(0.3, _end, args=(rt, "w1"))
    start = time.monotonic()
    timer.start()
    assert rt.store.wait("w1", timeout=10) is True
    waited = time.monotonic() - start
    assert 0.25 < waited < 0.9  # woken by the PUBLISH, not by the once-a-second re-read
    assert rt.store.state_of("w1") == StateName.COMPLETED
    assert not rt.client.exists(rt.store.keys.done("w1"))


def test_an_ended_run_returns_at_once_and_a_live_one_times_out(
        tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    _create(rt, "w2")
    start = time.monotonic()
    assert rt.store.wait("w2", timeout=0.4) is False
    assert 0.35 < time.monotonic() - start < 1.5
    _end(rt, "w2")
    start = time.monotonic()
    assert rt.store.wait("w2", timeout=5) is True
    assert time.monotonic() - start < 0.5


def test_an_unknown_run_is_not_found(tc_env: dict[str, Any]) -> None:
    with pytest.raises(RunNotFound, match="'nope' not found"):
        get_runtime().store.wait("nope", timeout=1)


def test_many_waits_keep_one_connection_per_thread(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    before = _pubsub_clients(rt)  # the server is shared with earlier tests of the session
    for i in range(200):
        _create(rt, f"m{i}")
        _end(rt, f"m{i}")
        assert rt.store.wait(f"m{i}", timeout=5)
    assert _pubsub_clients(rt) <= before + 1

    def waits() -> None:
        for i in range(50):
            assert rt.store.wait(f"m{i}", timeout=5)

    threads = [threading.Thread(target=waits) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _pubsub_clients(rt) <= before + 4
