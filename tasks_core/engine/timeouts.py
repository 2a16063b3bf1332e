"""Enforce timeout_seconds on synchronous code.

In a process's main thread (a worker child, or a script) a real-time interval timer raises
TaskTimeout inside the running code. Elsewhere (threads) there is no safe way to interrupt
Python code, so the deadline is not enforced there; async code uses asyncio.timeout instead,
and the worker also sets Celery's hard time limit as a backstop.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from tasks_core.errors import TaskTimeout

__all__ = ["deadline"]


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise TaskTimeout in the body when it runs longer than `seconds` (main thread only)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expire(signum: int, frame: FrameType | None) -> None:
        raise TaskTimeout(f"timed out after {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
