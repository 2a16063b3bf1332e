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


@task(name="proj.limited", rate_limit="2/s")
def limited(i: int) -> int:
    return i


@task(name="proj.crawl", rate_limit="1/m")
def crawl(i: int) -> int:
    return i


@task(queue="own-queue")
def pinned() -> str:
    return "pinned"
