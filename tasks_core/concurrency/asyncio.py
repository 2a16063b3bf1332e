"""``from tasks_core.concurrency.asyncio import concurrency, rate_limit``: the async
spellings of `tasks_core.concurrency.sync` (Prefect's `prefect.concurrency.asyncio`), with
the same semantics; waiting sleeps on the event loop, Redis calls run in a thread.

    async with concurrency("db", occupy=1):
        ...
    await rate_limit("api")
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tasks_core.concurrency.errors import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
)
from tasks_core.concurrency.slots import Acquirer, Held
from tasks_core.store.concurrency_limits import ConcurrencyLimitStore

__all__ = ["AcquireConcurrencySlotTimeoutError", "ConcurrencySlotAcquisitionError",
           "concurrency", "rate_limit"]


def _store() -> ConcurrencyLimitStore:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().concurrency_limits


async def _acquire(acquirer: Acquirer) -> Held:
    while (pause := await asyncio.to_thread(acquirer.try_once)) is not None:
        await asyncio.sleep(pause)
    assert acquirer.held is not None  # try_once returned None: taken
    return acquirer.held


@asynccontextmanager
async def concurrency(names: str | list[str], occupy: int = 1,
                      timeout_seconds: float | None = None, max_retries: int | None = None,
                      lease_duration: float = 300, strict: bool = False, holder: Any = None,
                      suppress_warnings: bool = False) -> AsyncIterator[None]:
    """`tasks_core.concurrency.sync.concurrency`, as ``async with``."""
    held = await _acquire(Acquirer(_store(), names, occupy, "concurrency",
                                   timeout_seconds=timeout_seconds, max_retries=max_retries,
                                   lease_seconds=lease_duration, strict=strict,
                                   quiet=suppress_warnings))
    try:
        yield
    finally:
        await asyncio.to_thread(held.release)


async def rate_limit(names: str | list[str], occupy: int = 1,
                     timeout_seconds: float | None = None, strict: bool = False) -> None:
    """`tasks_core.concurrency.sync.rate_limit`, awaited."""
    await _acquire(Acquirer(_store(), names, occupy, "rate_limit",
                            timeout_seconds=timeout_seconds, strict=strict))
