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


@task
def scale(values: list[int], factor: int) -> list[int]:
    return [v * factor for v in values]


@task
def first_type(items: list[Any]) -> str:
    return type(items[0]).__name__


@task
def first_item(items: list[Any]) -> Any:
    return items[0]


@flow
def futures_as_arguments() -> dict[str, Any]:
    """Prefect's patterns with futures inside a flow (thread runner)."""
    from tasks_core import allow_failure, quote
    from tasks_core.errors import UpstreamFailed

    three = add.submit(1, 2)
    bad = boom.submit("upstream broke")
    out: dict[str, Any] = {
        "direct": add(three, 10),                   # a future in a direct call
        "submitted": add.submit(three, 100).result(),  # a future given to submit
        "nested": first_item([three]),              # futures inside a list are resolved
        "quoted": first_type(quote([three])),        # ... unless quoted
        "after_failure": add.submit(1, 1, wait_for=[allow_failure(bad)]).result(),
        "given_failure": describe(allow_failure(bad)),
        "direct_wait_for": add(2, 2, wait_for=[three]),
        "task_run_id": three.task_run_id == three.id,
    }
    blocked = add.submit(5, 5, wait_for=[bad])
    blocked.wait()
    out["blocked_state"] = str(blocked.state.name)
    out["blocked_error"] = type(blocked.result(raise_on_failure=False)).__name__
    try:
        add(1, 1, wait_for=[bad])
    except UpstreamFailed as exc:
        out["direct_blocked"] = str(exc)
    mapped = add.map(x=[1, 2, 3], y=[10, 20, 30])
    out["mapped_type"] = type(mapped).__name__
    out["mapped"] = mapped.result()
    out["mapped_unmapped"] = scale.map(unmapped_list(), factor=[1, 10]).result()
    return out


def unmapped_list() -> Any:
    from tasks_core import unmapped

    return unmapped([1, 2])


@task
async def async_add(x: int, y: int) -> int:
    return x + y
