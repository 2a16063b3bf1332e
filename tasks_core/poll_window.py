"""How many runs a waiter reads per poll: about what finishes between two polls.

`wait_all`, `wait` and `FutureList.wait()` / `.result()` read the states of the oldest
unfinished runs (runs mostly finish in the order they were sent), not all of them: a poll
of 256 states cost its caller about 1.8 ms of CPU on a 2-vCPU machine, one of 16 about
0.24 ms (bench/tasks_alone.py's machine B, SCALING.md), and a waiter polling every few
milliseconds shares the cores with the workers it waits on.
"""

from __future__ import annotations

__all__ = ["MAX_WINDOW", "MIN_WINDOW", "next_window"]

MIN_WINDOW = 16
"""The fewest of the oldest unfinished runs one poll reads."""
MAX_WINDOW = 256
"""The most one poll reads (`wait_all`'s default `window`)."""


def next_window(size: int, read: int, finished: int, cap: int) -> int:
    """How many of the oldest unfinished runs the next poll reads.

    `size` is this poll's window, `read` the runs it read (fewer at the end of the list),
    `finished` how many of them had finished, `cap` the most a poll reads. Every run read
    had finished: twice the window (the caller polls again at once). Else twice what
    finished, so that a poll reads about what finishes between two polls, and at least
    `MIN_WINDOW`. Always within ``[1, cap]`` (`cap` >= 1).
    """
    grown = size * 2 if read and finished == read else finished * 2
    return max(1, min(cap, max(MIN_WINDOW, grown)))
