"""Tasks the canvas integration tests (test_canvas.py) send to real workers."""

from __future__ import annotations

import time
from typing import Any

from tasks_core import task
from tasks_core.process_runtime import get_runtime


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def mul(x: int, y: int) -> int:
    return x * y


@task
def tsum(values: list[int]) -> int:
    return sum(values)


@task
def boom(x: int = 0) -> int:
    raise ValueError(f"boom {x}")


@task
def at_instant(x: int, at: float) -> int:
    """Sleeps until the epoch time `at`, so many runs end at the same instant."""
    time.sleep(max(0.0, at - time.time()))
    return x


@task
def note(value: Any, label: str = "called") -> str:
    """Appends `label:value` to a list in Redis the test reads (a callback's trace)."""
    rt = get_runtime()
    rt.client.rpush(f"{rt.settings.key_prefix}:test-notes", f"{label}:{value}")
    return f"{label}:{value}"


@task
def double(x: int) -> int:
    return 2 * x
