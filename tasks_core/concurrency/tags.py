"""Task tag concurrency limits: an attempt of a task run carrying tag ``db`` first takes a
slot of the limit ``tag:db`` (``tasks-core concurrency-limit create --tag db 5``), waits
while none is free (the run stays Running, it does not fail), and gives it back when the
attempt ends, however it ends. A worker that dies mid-attempt stops renewing the lease,
and the slot comes back within ``heartbeat_timeout_seconds`` (the same bound after which
its run is found Crashed). Tags with no limit cost one Redis call and no wait.

The engine runs each attempt's body through `attempt_with_tag_slots` (or its async twin)
when the run has tags (`tasks_core.engine.lifecycle`), so every path (a direct call, a task
in a flow, a task run on a worker) honours the limits. A run cancelled while it waits stops
waiting: its attempt ends cancelled without running its body, and the run ends Cancelled.

Semantics: Prefect's task tag concurrency limits
(docs.prefect.io/v3, "Limit concurrent task runs with tags"), stored as Prefect 3 stores
them, as global limits named ``tag:<tag>``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from tasks_core.concurrency.limits import TAG_PREFIX, check_limit_name
from tasks_core.concurrency.slots import Acquirer, Held
from tasks_core.engine.outcome import Ended
from tasks_core.errors import TaskCancelled, ValidationError
from tasks_core.process_runtime import Runtime
from tasks_core.states import StateName

__all__ = ["attempt_with_tag_slots", "attempt_with_tag_slots_async", "limit_names"]

log = logging.getLogger("tasks_core.concurrency")


def limit_names(tags: Sequence[str]) -> list[str]:
    """The limit names of `tags` (``tag:<tag>``); a tag no limit can be named after (a
    space, ``:`` ...) has none."""
    names = []
    for tag in tags:
        try:
            names.append(check_limit_name(TAG_PREFIX + tag))
        except ValidationError:
            continue
    return names


def _acquirer(rt: Runtime, tags: Sequence[str]) -> Acquirer | None:
    names = limit_names(tags)
    if not names:
        return None
    return Acquirer(rt.concurrency_limits, names, 1, "concurrency",
                    lease_seconds=rt.settings.heartbeat_timeout_seconds, quiet=True)


def _cancelled(rt: Runtime, run_id: str, acquirer: Acquirer) -> Ended | None:
    """While waiting: the attempt's end when the run was asked to stop (Cancelling), so a
    cancelled run never waits on for a slot; else None (and a log line on the first wait)."""
    if acquirer.refusals == 1:
        log.info("task run %s waits for a slot of %s", run_id, ", ".join(acquirer.names))
    if rt.store.state_of(run_id) != StateName.CANCELLING.value:
        return None
    return Ended.failure(TaskCancelled("the run was cancelled while it waited for a slot "
                                       f"of {', '.join(acquirer.names)}", run_id=run_id),
                         retryable=False, cancelled=True)


def attempt_with_tag_slots(rt: Runtime, run_id: str, tags: Sequence[str],
                           body: Callable[[], Ended]) -> Ended:
    """Run one attempt's `body` holding a slot of each tag limit of `tags` (waiting for
    them first); how it ended. A run cancelled while it waits ends without its body."""
    acquirer = _acquirer(rt, tags)
    if acquirer is None:
        return body()
    while (pause := acquirer.try_once()) is not None:
        stopped = _cancelled(rt, run_id, acquirer)
        if stopped is not None:
            return stopped
        time.sleep(pause)
    held: Held | None = acquirer.held
    try:
        return body()
    finally:
        if held is not None:
            held.release()


async def attempt_with_tag_slots_async(rt: Runtime, run_id: str, tags: Sequence[str],
                                       body: Callable[[], Awaitable[Ended]]) -> Ended:
    """`attempt_with_tag_slots` for an async attempt: waiting sleeps on the event loop."""
    acquirer = _acquirer(rt, tags)
    if acquirer is None:
        return await body()
    while (pause := await asyncio.to_thread(acquirer.try_once)) is not None:
        stopped = await asyncio.to_thread(_cancelled, rt, run_id, acquirer)
        if stopped is not None:
            return stopped
        await asyncio.sleep(pause)
    held: Held | None = acquirer.held
    try:
        return await body()
    finally:
        if held is not None:
            await asyncio.to_thread(held.release)
