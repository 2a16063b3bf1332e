"""`wait_all`'s poll window (tasks_core.futures.next_window): it follows what finishes."""

from __future__ import annotations

import pytest

from tasks_core import wait_all
from tasks_core.futures import _MIN_WINDOW, next_window


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
