"""Tasks only the worker imports (`--import tests.integration.remote_tasks`): the test
process knows them by name alone, as a Celery client using `send_task` does. Never import
this module from a test."""

from __future__ import annotations

from tasks_core import task


@task(name="proj.remote_mul", retries=1, retry_delay_seconds=0)
def remote_mul(x: int, y: int = 1) -> int:
    return x * y


@task
def power(base: int, exp: int = 2) -> int:
    return int(base**exp)
