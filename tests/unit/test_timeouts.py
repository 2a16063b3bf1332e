"""timeout_seconds on sync code: main thread and other threads, nested, and swallowed."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from tasks_core.engine.timeouts import deadline
from tasks_core.errors import TaskTimeout


def _busy(seconds: float) -> str:
    """Pure-Python work (no long C call) for up to `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


def _in_thread(fn: object) -> object:
    box: list[object] = []

    def run() -> None:
        try:
            box.append(fn())  # type: ignore[operator]
        except BaseException as exc:  # the outcome is what the test looks at
            box.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return box[0]


def test_a_deadline_interrupts_busy_code_in_a_thread() -> None:
    def body() -> str:
        with deadline(0.3):
            return _busy(5)

    started = time.monotonic()
    outcome = _in_thread(body)
    assert isinstance(outcome, TaskTimeout) and "0.3s" in str(outcome)
    assert type(outcome) is TaskTimeout  # recorded by an importable name, not a local class
    assert time.monotonic() - started < 3


def test_a_thread_that_finishes_in_time_is_never_interrupted_later() -> None:
    def body() -> str:
        with deadline(0.2):
            _busy(0.05)
        return _busy(0.5)  # past the deadline, outside it: nothing may be raised here

    assert _in_thread(body) == "finished"


def test_a_swallowed_timeout_still_ends_the_body_timed_out() -> None:
    def body() -> str:
        with deadline(0.2):
            with contextlib.suppress(Exception):  # user code that swallows everything
                _busy(5)
            return "carried on"

    assert isinstance(_in_thread(body), TaskTimeout)
    with pytest.raises(TaskTimeout):
        body()  # the same in the main thread


def test_an_enclosing_deadline_holds_through_a_longer_inner_one() -> None:
    started = time.monotonic()
    with pytest.raises(TaskTimeout), deadline(0.3), deadline(10):
        _busy(5)
    assert time.monotonic() - started < 3


def test_an_enclosing_deadline_holds_after_an_inner_one_ends() -> None:
    started = time.monotonic()
    with pytest.raises(TaskTimeout), deadline(0.5):
        with deadline(0.1):
            _busy(0.01)
        _busy(5)
    assert time.monotonic() - started < 3
