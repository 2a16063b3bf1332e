"""Task tag concurrency limits: an attempt of a task run carrying tag ``db`` first takes a
slot of the limit ``tag:db`` (``tasks-core concurrency-limit create --tag db 5``), waits
while none is free (the run stays Running, it does not fail), and gives it back when the
attempt ends, however it ends. A worker that dies mid-attempt stops renewing the lease,
and the slot comes back within ``heartbeat_timeout_seconds`` (the same bound after which
its run is found Crashed). Tags with no limit cost one Redis call and no wait.

The engine calls `tag_slots` / `tag_slots_async` around each attempt's body
(`tasks_core.engine.lifecycle`), so every path (a direct call, a task in a flow, a task run
on a worker) honours the limits. Semantics: Prefect's task tag concurrency limits
(docs.prefect.io/v3, "Limit concurrent task runs with tags"), stored as Prefect 3 stores
them, as global limits named ``tag:<tag>``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager

from tasks_core.concurrency.limits import TAG_PREFIX, check_limit_name
from tasks_core.concurrency.slots import Acquirer, Held
from tasks_core.errors import ValidationError
from tasks_core.process_runtime import Runtime

__all__ = ["limit_names", "tag_slots", "tag_slots_async"]

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


def _waiting(run_id: str, acquirer: Acquirer) -> None:
    if acquirer.refusals == 1:
        log.info("task run %s waits for a slot of %s", run_id, ", ".join(acquirer.names))


@contextmanager
def tag_slots(rt: Runtime, run_id: str, tags: Sequence[str]) -> Iterator[None]:
    """Hold one slot of each tag limit of `tags` for the block (waiting for them first)."""
    acquirer = _acquirer(rt, tags)
    if acquirer is None:
        yield
        return
    while (pause := acquirer.try_once()) is not None:
        _waiting(run_id, acquirer)
        time.sleep(pause)
    held: Held | None = acquirer.held
    try:
        yield
    finally:
        if held is not None:
            held.release()


@asynccontextmanager
async def tag_slots_async(rt: Runtime, run_id: str, tags: Sequence[str]) -> AsyncIterator[None]:
    """`tag_slots` for an async attempt: waiting sleeps on the event loop."""
    acquirer = _acquirer(rt, tags)
    if acquirer is None:
        yield
        return
    while (pause := await asyncio.to_thread(acquirer.try_once)) is not None:
        _waiting(run_id, acquirer)
        await asyncio.sleep(pause)
    held: Held | None = acquirer.held
    try:
        yield
    finally:
        if held is not None:
            await asyncio.to_thread(held.release)
