"""`wait_all`'s poll window (tasks_core.poll_window.next_window): it follows what finishes."""

from __future__ import annotations

import pytest

from tasks_core import wait_all
from tasks_core.poll_window import MIN_WINDOW as _MIN_WINDOW
from tasks_core.poll_window import next_window


def test_a_poll_that_read_only_finished_runs_doubles_the_window() -> None:
    assert next_window(16, 16, 16, 256) == 32
    assert next_window(128, 128, 128, 256) == 256
    assert next_window(256, 256, 256, 256) == 256  # never past the cap


def test_otherwise_the_window_is_twice_what_finished_and_at_least_the_minimum() -> None:
    assert next_window(256, 256, 40, 256) == 80
    assert next_window(256, 256, 3, 256) == _MIN_WINDOW
    assert next_window(64, 64, 0, 256) == _MIN_WINDOW  # nothing finished: back to the least


def test_the_cap_bounds_every_window_even_below_the_minimum() -> None:
    assert next_window(4, 4, 4, 4) == 4
    assert next_window(4, 4, 0, 4) == 4
    assert next_window(1, 1, 0, 1) == 1


def test_the_last_short_read_of_the_list_is_not_a_full_window() -> None:
    # 5 runs were left and all 5 finished: read == finished, so the window still doubles
    assert next_window(32, 5, 5, 256) == 64
    # nothing read at all never grows it from nothing
    assert next_window(32, 0, 0, 256) == _MIN_WINDOW


def test_a_window_below_one_is_refused_with_its_value() -> None:
    with pytest.raises(ValueError, match="window must be at least 1, got 0"):
        wait_all([], window=0)


class _Done:
    """A future whose run has ended (in-process futures answer `done()` without Redis)."""

    def __init__(self, ended: bool = True) -> None:
        self.ended = ended

    def done(self) -> bool:
        return self.ended


def _record_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from tasks_core import future_sets

    reads: list[int] = []
    real = future_sets._finished

    def finished(futures: list[object]) -> list[object]:
        reads.append(len(futures))
        return real(futures)

    monkeypatch.setattr(future_sets, "_finished", finished)
    return reads


def test_wait_reads_the_oldest_in_growing_windows_when_all_have_ended(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks_core.future_sets import wait

    reads = _record_reads(monkeypatch)
    items = [_Done() for _ in range(1000)]
    done, not_done = wait(items, timeout=5)
    assert done == set(items) and not_done == set()
    assert reads == [16, 32, 64, 128, 256, 256, 248]  # never all 1,000 at once


def test_wait_at_its_timeout_reads_the_rest_once_so_done_holds_every_ended_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks_core.future_sets import wait

    reads = _record_reads(monkeypatch)
    hanging = [_Done(ended=False) for _ in range(20)]
    ended_later_in_the_list = [_Done() for _ in range(5)]
    done, not_done = wait(hanging + ended_later_in_the_list, timeout=0.2)
    assert done == set(ended_later_in_the_list) and not_done == set(hanging)
    assert set(reads[:-1]) == {16}  # nothing ended at the head: the window stays small
    assert reads[-1] == 25  # then, at the timeout, one read of all that were left


def test_as_completed_waits_at_least_four_times_a_slow_poll_before_the_next(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a poll that reads many states takes CPU: as_completed spends at most a fifth of a
    # core on them (future_sets.POLL_SHARE), whether or not runs ended in between; the
    # time waiting for Redis is not counted (below)
    import itertools
    import time

    from tasks_core import future_sets

    items = [_Done(ended=False) for _ in range(3)]
    starts: list[float] = []

    def finished(futures: list[_Done]) -> list[_Done]:
        starts.append(time.monotonic())
        spent = time.thread_time() + 0.02  # a poll of about 5,000 states: 20 ms of CPU
        while time.thread_time() < spent:
            pass
        if len(starts) == 2:
            return [futures[0]]  # one ends: the next poll still keeps its distance
        return futures if len(starts) >= 4 else []

    monkeypatch.setattr(future_sets, "_finished", finished)
    assert future_sets.POLL_SHARE == 0.2
    assert len(list(future_sets.as_completed(items, timeout=10))) == 3
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 3 and min(gaps) >= 0.02 + 0.08 - 0.005  # the poll, then 4x it


def test_as_completed_does_not_count_the_wait_for_redis(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    import itertools
    import time

    from tasks_core import future_sets

    items = [_Done(ended=False) for _ in range(3)]
    starts: list[float] = []

    def finished(futures: list[_Done]) -> list[_Done]:
        starts.append(time.monotonic())
        time.sleep(0.05)  # a distant Redis: a long round trip, little CPU
        return [futures[0]] if len(starts) < 3 else futures

    monkeypatch.setattr(future_sets, "_finished", finished)
    assert len(list(future_sets.as_completed(items, timeout=10))) == 3
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert max(gaps) < 0.05 + 0.1  # runs ended each time: the next poll followed at once
