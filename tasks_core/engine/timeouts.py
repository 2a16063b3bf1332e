"""Enforce timeout_seconds on synchronous code, in the main thread and in other threads.

- In a process's main thread (a worker child, a script, a flow) a real-time interval timer
  raises TaskTimeout inside the running code. Deadlines nest: an inner one pauses the
  enclosing timer and gives back what is left of it on exit, so the enclosing deadline
  still holds (and expires right there, on exit, if it passed meanwhile).
- In other threads (the flow's thread-pool task runner, Celery's threads pool) a timer
  thread raises TaskTimeout asynchronously in the running thread
  (`PyThreadState_SetAsyncExc`). Python delivers it at the next bytecode, so a thread
  blocked inside one long C call (a `time.sleep`, a socket read) sees it only when that
  call returns.
- Either way, code that catches and swallows the TaskTimeout does not escape: when the
  body returns after its deadline fired, TaskTimeout is raised then. Not so for a soft
  deadline (`strict=False`, Celery's soft_time_limit): as in Celery, a body that catches
  `SoftTimeLimitExceeded` (TaskTimeout is one) and returns has cleaned up and succeeds.

Async code uses asyncio.timeout instead, and the worker sets Celery's hard time limit as a
backstop.
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import FrameType

from tasks_core.errors import TaskTimeout

__all__ = ["deadline", "raise_in_thread"]

_SOON = 1e-6  # seconds: an enclosing deadline that passed meanwhile fires at once


_NO_DEADLINE = nullcontext()


def deadline(seconds: float | None, *, strict: bool = True) -> AbstractContextManager[None]:
    """Raise TaskTimeout in the body when it runs longer than `seconds` (None: no limit);
    `strict` False: a body that swallowed it is not failed on exit (a soft limit)."""
    if not seconds:
        return _NO_DEADLINE
    if threading.current_thread() is threading.main_thread():
        return _alarm(seconds, strict)
    return _thread_alarm(seconds, strict)


@contextmanager
def _alarm(seconds: float, strict: bool = True) -> Iterator[None]:
    message = f"timed out after {seconds:g}s"
    fired = threading.Event()

    def expire(signum: int, frame: FrameType | None) -> None:
        fired.set()
        raise TaskTimeout(message)

    previous = signal.signal(signal.SIGALRM, expire)
    outer_left, _ = signal.setitimer(signal.ITIMER_REAL, 0)  # pause an enclosing deadline
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_left) if outer_left else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            left = outer_left - (time.monotonic() - started)
            if left > 0:
                signal.setitimer(signal.ITIMER_REAL, left)
            elif callable(previous):  # the enclosing deadline passed meanwhile: expire here
                previous(signal.SIGALRM, None)
            else:
                signal.setitimer(signal.ITIMER_REAL, _SOON)
    if fired.is_set() and strict:  # the body swallowed it and carried on
        raise TaskTimeout(message)


@contextmanager
def _thread_alarm(seconds: float, strict: bool = True) -> Iterator[None]:
    message = f"timed out after {seconds:g}s"
    thread_id = threading.get_ident()
    lock = threading.Lock()
    done = False
    fired = threading.Event()

    class ThreadTimeout(TaskTimeout):  # raised by class; re-raised below as TaskTimeout
        def __init__(self, *args: object) -> None:
            super().__init__(*(args or (message,)))

    def expire() -> None:
        with lock:
            if not done:
                fired.set()
                raise_in_thread(thread_id, ThreadTimeout)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except ThreadTimeout:  # recorded as the importable TaskTimeout, not a local class
        raise TaskTimeout(message) from None
    finally:
        with lock:
            done = True
            if fired.is_set():
                raise_in_thread(thread_id, None)  # clear it if it has not been raised yet
        timer.cancel()
    if fired.is_set() and strict:  # the body swallowed it, or returned just as it fired
        raise TaskTimeout(message)


def raise_in_thread(thread_id: int, exc_type: type[BaseException] | None) -> None:
    """Raise `exc_type` in the thread `thread_id` at its next bytecode (None: cancel)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None)
