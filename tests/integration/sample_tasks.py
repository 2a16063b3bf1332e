"""Tasks the integration tests send to real workers."""

from __future__ import annotations

import os
import time

from tasks_core import get_run_logger, task
from tasks_core.runtime import get_runtime


def _counter(name: str) -> int:
    rt = get_runtime()
    return int(rt.client.incr(f"{rt.settings.key_prefix}:test-counter:{name}"))


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def noop() -> None:
    return None


@task(retries=2, retry_delay_seconds=0.05)
def flaky(name: str, succeed_on: int) -> int:
    count = _counter(name)
    if count < succeed_on:
        raise ValueError(f"attempt {count} failed on purpose")
    return count


@task(retries=1, retry_delay_seconds=2)
def slow_retry(name: str) -> int:
    """Fails its first attempt; the retry comes two seconds later."""
    count = _counter(name)
    if count < 2:
        raise ValueError(f"attempt {count} failed on purpose")
    return count


@task
def divide(x: int, y: int) -> float:
    return x / y


@task(timeout_seconds=0.5)
def sleepy(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


@task
def record_pid_and_sleep(key: str, seconds: float) -> str:
    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid())
    time.sleep(seconds)
    return "done"


@task(retries=1)
def record_pid_and_sleep_retry(key: str, seconds: float) -> str:
    rt = get_runtime()
    if rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid(), nx=True):
        time.sleep(seconds)  # the first attempt sleeps (and is killed); the retry returns
    return "survived"


@task
def not_json() -> object:
    return {1, 2, 3}


@task
def huge(n: int) -> str:
    return "x" * n


@task
def count_calls(name: str) -> int:
    return _counter(name)


@task
def outer(x: int) -> int:
    return add(x, 1) * 10


@task
async def async_double(x: int) -> int:
    return x * 2


@task(log_prints=True)
def chatty(n: int) -> int:
    """Logs through the run logger and prints n lines (captured: log_prints)."""
    logger = get_run_logger()
    logger.info("starting %d", n)
    for i in range(n):
        print(f"line {i}")
    logger.warning("done")
    return n


@task(cache_policy="inputs")
def cached_square(name: str, x: int) -> int:
    _counter(name)
    return x * x


@task(cache_key_fn=lambda context, parameters: f"by-name:{parameters['name']}",
      cache_expiration=1)
def cached_by_name(name: str, x: int) -> int:
    _counter(name)
    return x
