"""Tasks and flows for the State, mapping and AsyncResult tests (imported by their workers
with ``--import tests.integration.futures_tasks``)."""

from __future__ import annotations

import time
from typing import Any

from tasks_core import flow, task
from tasks_core.states import Completed, Failed, State


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def boom(message: str) -> int:
    raise ValueError(message)


@task
def slow_add(x: int, y: int, seconds: float) -> int:
    time.sleep(seconds)
    return x + y


@task
def returns_failed(message: str) -> State:
    return Failed(message=message)


@task
def returns_completed(value: int) -> State:
    return Completed(message="fine", data=value * 2)


@task
def total(values: list[int]) -> int:
    return sum(values)


@task
def describe(value: Any) -> str:
    return type(value).__name__


@flow
def validating_flow(n: int) -> Any:
    if n < 0:
        return Failed(message=f"n must be >= 0, got {n}")
    return Completed(data=add(n, 1))


@flow
def deployed_failing(n: int) -> Any:
    return Failed(message=f"refused {n}")
