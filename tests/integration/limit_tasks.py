"""Tasks the concurrency limit tests send to real workers: each returns the wall-clock
interval it ran in (or held its slot in), so a test can check that no two overlapped."""

from __future__ import annotations

import time

from tasks_core import task
from tasks_core.concurrency.sync import concurrency


@task(tags=["limited"])
def tagged_interval(seconds: float) -> list[float]:
    start = time.time()
    time.sleep(seconds)
    return [start, time.time()]


@task(tags=["limited"])
async def tagged_interval_async(seconds: float) -> list[float]:
    import asyncio

    start = time.time()
    await asyncio.sleep(seconds)
    return [start, time.time()]


@task
def held_interval(name: str, seconds: float) -> list[float]:
    with concurrency(name, occupy=1, timeout_seconds=30):
        start = time.time()
        time.sleep(seconds)
        return [start, time.time()]
