"""Stopping a cancelled run where it executes: raise TaskCancelled in its body.

Each attempt registers itself while its body runs (`cancellable`). A listener thread per
process (started with the first attempt, again after a fork) hears the ids `cancel_run`
announces on the cancel channel and stops the attempt of a run executing here:

- a sync body: TaskCancelled is raised asynchronously in its thread
  (`PyThreadState_SetAsyncExc`, as thread timeouts do): Python delivers it at the next
  bytecode, so a thread blocked in one long C call (a `time.sleep`, a socket read) sees it
  when that call returns;
- an async body: its asyncio task is cancelled, and the CancelledError becomes TaskCancelled.

Code that catches TaskCancelled and carries on still ends Cancelled: once the request
fired, the attempt raises TaskCancelled when its body returns. A request heard for a run
that has not started here yet (claimed ahead in a `.map()` chunk's window) is kept a while:
when it starts, its body is not called and it ends Cancelled. A missed announcement loses
nothing: the ledger says Cancelling, which leads only to Cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tasks_core.engine.timeouts import raise_in_thread
from tasks_core.errors import StoreUnavailable, TaskCancelled
from tasks_core.process_runtime import Runtime, get_runtime

__all__ = ["cancellable", "stop_here"]

log = logging.getLogger("tasks_core.engine")

_MESSAGE = "the run was cancelled"


class _Stop(TaskCancelled):
    """Raised by class in a thread (no arguments); re-raised as TaskCancelled."""


@dataclass(slots=True)
class _Attempt:
    thread_id: int
    task: asyncio.Task[object] | None
    loop: asyncio.AbstractEventLoop | None
    fired: bool = False
    done: bool = False


_executing: dict[str, _Attempt] = {}
_lock = threading.Lock()
_heard: OrderedDict[str, float] = OrderedDict()
"""Cancel requests heard for runs not executing here, newest last: run id -> when
(monotonic seconds). A run claimed here but not started yet (a `.map()` chunk's window,
`engine.claim_ahead`) does not run its body when it starts later."""
HEARD_KEEP_S = 300.0
HEARD_MAX = 10_000
_listening: tuple[int, Runtime] | None = None


def stop_here(run_id: str) -> bool:
    """Stop the attempt of `run_id` if it executes in this process; whether it did."""
    with _lock:
        attempt = _executing.get(run_id)
        if attempt is None:
            _remember(run_id)
        if attempt is None or attempt.done or attempt.fired:
            return False
        attempt.fired = True
        if attempt.task is not None and attempt.loop is not None:
            attempt.loop.call_soon_threadsafe(attempt.task.cancel)
        else:
            raise_in_thread(attempt.thread_id, _Stop)
    log.info("run %s: cancelled; stopping its attempt", run_id)
    return True


def _remember(run_id: str) -> None:
    """Keep a cancel heard for a run not executing here (`_heard`; `_lock` held): the
    newest `HEARD_MAX`, for `HEARD_KEEP_S`."""
    now = time.monotonic()
    _heard[run_id] = now
    _heard.move_to_end(run_id)
    while _heard and (len(_heard) > HEARD_MAX
                      or next(iter(_heard.values())) < now - HEARD_KEEP_S):
        _heard.popitem(last=False)


def _listen(rt: Runtime) -> None:
    """Hear cancel requests on `rt`'s Redis until this process's runtime is another one
    (rebuilt with other settings: a listener for it takes over), again after a lost
    connection."""
    while get_runtime() is rt:
        try:
            for run_id in rt.cancels.listen():
                if run_id:
                    stop_here(run_id)
                if get_runtime() is not rt:
                    return
        except (StoreUnavailable, OSError) as exc:
            log.warning("cancel requests not heard (%s); listening again in 1s", exc)
        except Exception:
            log.exception("cancel listener failed; listening again in 1s")
        time.sleep(1.0)


def _ensure_listening() -> None:
    global _listening
    rt = get_runtime()
    pid = os.getpid()
    if _listening is not None and _listening[0] == pid and _listening[1] is rt:
        return
    with _lock:
        if _listening is not None and _listening[0] == pid and _listening[1] is rt:
            return
        if _listening is None or _listening[0] != pid:
            _executing.clear()  # a forked child inherits no running attempt
            _heard.clear()
        _listening = (pid, rt)
    threading.Thread(target=_listen, args=(rt,), name="tasks-core-cancel-listener",
                     daemon=True).start()


@contextmanager
def cancellable(run_id: str) -> Iterator[None]:
    """Let a cancel request for `run_id` stop the body run inside (see the module doc).
    Raises TaskCancelled when it did (also when the body swallowed it)."""
    _ensure_listening()
    try:
        task: asyncio.Task[object] | None = asyncio.current_task()
    except RuntimeError:
        task = None
    attempt = _Attempt(threading.get_ident(), task, task.get_loop() if task else None)
    with _lock:
        if _heard.pop(run_id, None) is not None:  # cancelled before it started here
            raise TaskCancelled(_MESSAGE, run_id=run_id)
        _executing[run_id] = attempt
    try:
        yield
    except _Stop:
        raise TaskCancelled(_MESSAGE, run_id=run_id) from None
    except asyncio.CancelledError:
        if not attempt.fired:
            raise
        if task is not None:
            task.uncancel()
        raise TaskCancelled(_MESSAGE, run_id=run_id) from None
    finally:
        with _lock:
            attempt.done = True
            if _executing.get(run_id) is attempt:
                del _executing[run_id]
            if attempt.fired and task is None:
                raise_in_thread(attempt.thread_id, None)  # not raised yet: clear it
    if attempt.fired:  # the body swallowed it, or returned just as it fired
        raise TaskCancelled(_MESSAGE, run_id=run_id)
