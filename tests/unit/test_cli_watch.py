"""Following a run (`tasks_core.cli.watch.follow`): every state once, in order, with time
injected; the history a real store would give is scripted over that time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tasks_core.cli.watch import change_line, follow
from tasks_core.records import StateEntry
from tasks_core.states import StateName, is_terminal, state_type

T0 = datetime(2026, 11, 29, 22, 0, 0, tzinfo=UTC)


def entry(name: StateName, at: float, message: str = "") -> StateEntry:
    return StateEntry(name=name, type=state_type(name), timestamp=T0 + timedelta(seconds=at),
                      message=message)


class ScriptedRun:
    """A run's history revealed over injected time: each entry is visible from its own
    timestamp. `wait` blocks as the store's does: until the run is terminal or the timeout
    passes, moving the clock on by what it waited."""

    def __init__(self, *entries: StateEntry) -> None:
        self.entries = list(entries)
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def _visible(self) -> list[StateEntry]:
        return [e for e in self.entries if (e.timestamp - T0).total_seconds() <= self.now]

    def history_since(self, run_id: str, start: int = 0) -> list[StateEntry]:
        assert run_id == "r1"
        return self._visible()[start:]

    def wait(self, run_id: str, timeout: float | None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        ends = [(e.timestamp - T0).total_seconds() for e in self.entries if is_terminal(e.name)]
        if ends and ends[0] <= self.now + timeout:
            self.now = max(self.now, ends[0])
            return True
        self.now += timeout
        return False


def test_every_state_is_reported_once_in_order_and_the_end_at_once() -> None:
    run = ScriptedRun(entry(StateName.PENDING, 0), entry(StateName.RUNNING, 0.2),
                      entry(StateName.AWAITING_RETRY, 0.6, "retry 1 of 1"),
                      entry(StateName.RETRYING, 0.7), entry(StateName.COMPLETED, 2.05))
    seen: list[StateEntry] = []
    ticks: list[float] = []
    assert follow(run, "r1", 30, seen.append, on_tick=ticks.append, poll=0.5, clock=run.clock)
    assert seen == run.entries  # the quick AwaitingRetry -> Retrying pair is not lost
    assert run.now == 2.05  # the terminal state ends the wait when it happens, not at a poll
    assert all(w <= 0.5 for w in run.waits) and ticks == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_a_run_not_done_in_time_returns_false_after_exactly_the_timeout() -> None:
    run = ScriptedRun(entry(StateName.PENDING, 0), entry(StateName.RUNNING, 1.0))
    seen: list[StateEntry] = []
    assert not follow(run, "r1", 1.2, seen.append, poll=0.5, clock=run.clock)
    assert [e.name for e in seen] == [StateName.PENDING, StateName.RUNNING]
    assert run.waits == pytest.approx([0.5, 0.5, 0.2]) and run.now == pytest.approx(1.2)


def test_an_ended_run_is_reported_without_waiting() -> None:
    run = ScriptedRun(entry(StateName.PENDING, 0), entry(StateName.FAILED, 0, "boom"))
    seen: list[StateEntry] = []
    assert follow(run, "r1", None, seen.append, clock=run.clock)
    assert [e.name for e in seen] == [StateName.PENDING, StateName.FAILED] and run.waits == []


def test_a_change_line_is_the_local_time_the_state_and_its_message() -> None:
    local = (T0 + timedelta(seconds=7)).astimezone().strftime("%H:%M:%S")
    assert change_line(entry(StateName.RUNNING, 7)).plain == f"{local} Running"
    assert change_line(entry(StateName.FAILED, 7, "RuntimeError: x")).plain == (
        f"{local} Failed (RuntimeError: x)")
