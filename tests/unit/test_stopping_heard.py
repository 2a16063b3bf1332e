"""Cancel requests heard for runs not executing in this process (`engine.stopping`): kept
a while, bounded, and a run that starts later does not call its body."""

from __future__ import annotations

import pytest

from tasks_core.engine import stopping
from tasks_core.errors import TaskCancelled


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stopping, "_ensure_listening", lambda: None)  # no Redis here
    stopping._heard.clear()


def test_a_run_cancelled_before_it_starts_does_not_call_its_body() -> None:
    assert stopping.stop_here("r1") is False  # not executing here: kept
    called = []
    with pytest.raises(TaskCancelled) as caught, stopping.cancellable("r1"):
        called.append(1)
    assert caught.value.run_id == "r1" and called == []
    with stopping.cancellable("r1"):  # heard once: a later start is not stopped again
        called.append(2)
    assert called == [2]


def test_heard_requests_are_bounded_by_count_and_age(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stopping, "HEARD_MAX", 3)
    for run_id in ("a", "b", "c", "d"):
        stopping.stop_here(run_id)
    assert list(stopping._heard) == ["b", "c", "d"]
    clock = [1000.0]
    monkeypatch.setattr(stopping.time, "monotonic", lambda: clock[0])
    stopping._heard.clear()
    stopping.stop_here("old")
    clock[0] += stopping.HEARD_KEEP_S + 1
    stopping.stop_here("new")
    assert list(stopping._heard) == ["new"]
