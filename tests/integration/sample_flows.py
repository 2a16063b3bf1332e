"""Flows the deployment tests deploy (loaded by workers through their entrypoints)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel

from tasks_core.deployments import run_deployment
from tasks_core.flow import flow
from tasks_core.task_runners import CeleryTaskRunner
from tests.integration import sample_tasks as t


@flow
def pipeline(lat: float, lon: float = 0.0) -> dict[str, Any]:
    return {"lat": lat, "lon": lon, "sum": t.add(int(lat), int(lon))}


@flow
def run_deployment_from_flow() -> float:
    print("Running deployment from a flow")
    run = run_deployment(
        name="pipeline/my-first-managed-deployment", parameters={"lat": 1, "lon": 2}
    )
    return float(run.result()["sum"])


@flow
def broken() -> None:
    raise RuntimeError("never loaded")


@flow
def sleepy_flow(key: str) -> str:
    import os
    import time

    from tasks_core.process_runtime import get_runtime

    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid())
    time.sleep(30)
    return "woke"


# -- one engine (tests/integration/test_one_engine.py) -------------------------------------


@flow
def count_to(n: int, names: list[str] | None = None) -> int:
    return n + len(names or [])


@flow
def stamp(when: datetime) -> str:
    assert isinstance(when, datetime), type(when)
    return when.isoformat()


@flow
def next_day(day: date) -> date:
    assert isinstance(day, date), type(day)
    return day + timedelta(days=1)


@flow
def raise_unprintable_flow() -> None:
    raise t.Unprintable()


@flow(log_prints=True, task_runner=CeleryTaskRunner())
def shouting_on_workers(message: str) -> str:
    return str(t.shout.submit(message).result(timeout=30))


@flow(task_runner=CeleryTaskRunner())
def cached_on_workers(name: str) -> list[int]:
    return [t.cached_count.submit(name).result(timeout=30) for _ in range(2)]


@flow(task_runner=CeleryTaskRunner())
def unprintable_on_workers() -> None:
    t.raise_unprintable.submit().result(timeout=30)


@flow
async def awaits_a_blocking_task(seconds: float) -> str:
    return str(await t.block_async(seconds))


@flow(log_prints=True)
def loud_flow(message: str) -> str:
    print(f"flow says {message}")
    return str(t.shout(message))  # a task run in process: inherits log_prints


@flow(task_runner=CeleryTaskRunner())
def years_on_workers() -> list[int]:
    return [t.year.submit(datetime(2020 + i, 1, 1)).result(timeout=30) for i in range(2)]


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Point(BaseModel):
    x: int
    y: int = 0


@dataclass
class Window:
    start: date
    days: int


@flow
def shapes(point: Point, color: Color, window: Window) -> list[str]:
    """Gets its parameters as the annotated types, however they were sent."""
    assert isinstance(point, Point) and isinstance(color, Color), (point, color)
    assert isinstance(window, Window) and isinstance(window.start, date), window
    return [type(point).__name__, color.value, window.start.isoformat()]


@flow
def count_digits(n: int) -> int:
    return len(str(n))


@flow
def inner_flow(x: int) -> int:
    return t.add(x, 1)


@flow
def family(x: int) -> int:
    """A task called, a task submitted to the thread runner, a nested flow, a failing task
    whose failure it handles: all inside one flow run on a worker."""
    first = t.add(x, 1)
    second = t.add.submit(first, 1).result()
    with contextlib.suppress(ZeroDivisionError):
        t.divide(1, 0)
    return int(inner_flow(second))


@flow
def spinning_family(key: str) -> list[str]:
    """Two long task runs on the flow's thread runner, then one that must never start."""
    futures = [t.spin.submit(f"{key}-{i}", 60) for i in range(2)]
    done = [future.result() for future in futures]
    return [*done, t.spin(f"{key}-after", 0)]


# -- state change hooks (tests/integration/test_hooks.py) ----------------------------------

FLOW_HOOKS: dict[str, Any] = {option: [t.record_hook(option)]
                              for option in (*t.FINAL, "on_running")}


@flow(**FLOW_HOOKS, tags=["hooked-flow"])
def hooked_flow(x: int, fail: bool = False) -> int:
    if fail:
        raise ValueError("flow failed on purpose")
    return x


@flow(**FLOW_HOOKS)
async def hooked_async_flow(x: int, fail: bool = False) -> int:
    if fail:
        raise ValueError("async flow failed on purpose")
    return x


@flow(retries=1, **FLOW_HOOKS)
def hooked_retried_flow() -> None:
    raise ValueError("every attempt fails")


@flow(**FLOW_HOOKS)
def hooked_parent(x: int) -> int:
    return hooked_flow(x) + 1  # a nested flow run, with hooks of its own


@flow
def hooked_tasks_on_threads(xs: list[int]) -> list[str]:
    """The default thread runner: each task run ends in a thread of this process."""
    futures = t.hooked_divide.map([1] * len(xs), xs)
    return [repr(f.result(raise_on_failure=False)) for f in futures]


@flow(task_runner=CeleryTaskRunner())
def hooked_tasks_on_workers(xs: list[int]) -> list[str]:
    """The Celery runner: each task run ends on a worker, whose hooks run there."""
    futures = [t.hooked_divide.submit(1, x) for x in xs]
    return [repr(f.result(timeout=30, raise_on_failure=False)) for f in futures]


@flow(**FLOW_HOOKS)
def hooked_sleepy_flow(key: str) -> str:
    import os
    import time

    from tasks_core.process_runtime import get_runtime

    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid())
    time.sleep(30)
    return "woke"
