"""Tasks of the calling-option tests (task_id, expires, headers, shadow), sent to real
workers."""

from __future__ import annotations

from tasks_core import task


@task(name="proj.mul")
def mul(x: int, y: int) -> int:
    return x * y


@task
def echo(value: str) -> str:
    return value
