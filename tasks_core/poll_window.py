"""How many runs a waiter reads per poll: about what finishes between two polls.

`wait_all`, `wait` and `FutureList.wait()` / `.result()` read the states of the oldest
unfinished runs (runs mostly finish in the order they were sent), not all of them: a poll
of 256 states cost its caller about 1.8 ms of CPU on a 2-vCPU machine, one of 16 about
0.24 ms (bench/tasks_alone.py's machine B, SCALING.md), and a waiter polling every few
milliseconds shares the cores with the workers it waits on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["MAX_WINDOW", "MIN_WINDOW", "next_window", "poll_oldest"]

T = TypeVar("T")

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


def poll_oldest(items: Sequence[T], ended: Callable[[list[T]], list[bool]], *,
                deadline: float | None, pause_s: float, cap: int = MAX_WINDOW) -> list[T]:
    """Poll `items` oldest first until every one has ended or `deadline` (a
    ``time.monotonic()`` value; None: no limit) passes; the ones not seen ended, in order.

    `ended(head)` reads one window (`next_window`: 16 to `cap` of the oldest not seen ended)
    and says which of it have ended. When all it read had ended, the next poll follows at
    once; otherwise after `pause_s` while some end, doubling to 50 ms while none does.
    """
    todo = list(items)
    size, pause = min(cap, MIN_WINDOW), pause_s
    while todo:
        head = todo[:size]
        left = [item for item, done in zip(head, ended(head), strict=True) if not done]
        finished = len(head) - len(left)
        todo = left + todo[size:]
        if not todo or (deadline is not None and time.monotonic() >= deadline):
            break
        size = next_window(size, len(head), finished, cap)
        if finished == len(head):
            continue  # all of it had ended: read on at once
        pause = pause_s if finished else min(pause * 2, 0.05)
        time.sleep(pause if deadline is None else
                   max(0.0, min(pause, deadline - time.monotonic())))
    return todo
