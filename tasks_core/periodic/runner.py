"""What a ``beat_schedule`` entry's deployment runs: the named task, once per due time.

Each entry is a deployment of the `beat_entry` flow (`tasks_core.periodic.sync`), so a due
time becomes one flow run, created exactly once by the scheduler (idempotency key:
deployment + time) and executed by a worker of the entry's pool; the task runs inside it
as a tracked task run of that flow run, with the entry's args and kwargs.

The task is found by its Celery name as the worker knows it (`find_task`):

1. a task registered with that ``name=`` (``@task(name="proj.mul")``);
2. a task key ``module:qualname``;
3. Celery's default name ``module.function`` (``proj.tasks.add``), the module imported.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from tasks_core.errors import TaskNotFound
from tasks_core.flow import flow
from tasks_core.registry import named, resolve
from tasks_core.task import Task

__all__ = ["ENTRYPOINT", "FLOW_NAME", "beat_entry", "find_task"]

FLOW_NAME = "beat-schedule"
ENTRYPOINT = "tasks_core.periodic.runner:beat_entry"


def _by_address(name: str) -> Task[Any, Any] | None:
    candidates = [name] if ":" in name else [
        f"{name[:i]}:{name[i + 1:]}" for i in range(len(name)) if name[i] == "."][::-1]
    for key in candidates:
        try:
            return resolve(key)
        except TaskNotFound:
            continue
    return None


def find_task(name: str) -> Task[Any, Any]:
    """The task a beat_schedule entry names.

    Raises:
        TaskNotFound: no task by that name, key or module path here (the message says to
            start the worker with ``--import`` of the module defining it).
    """
    found = named(name)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise TaskNotFound(f"task name {name!r} is shared by {', '.join(t.key for t in found)}: "
                           "give the beat_schedule entry one task key (module:function)")
    task = _by_address(name)
    if task is None:
        raise TaskNotFound(
            f"beat_schedule task {name!r} is not known to this worker: start it with "
            "--import MODULE (the module defining the task), or name the task by its "
            "module path (proj.tasks.add) or key (proj.tasks:add)")
    return task


@flow(name=FLOW_NAME, description="one due time of a beat_schedule entry: runs its task")
def beat_entry(task: str, args: list[Any] | None = None,
               kwargs: dict[str, Any] | None = None) -> Any:
    """Run the task named `task` with `args` and `kwargs`, tracked inside this flow run;
    its value."""
    target = find_task(task)
    value = target(*(args or []), **(kwargs or {}))
    if inspect.iscoroutine(value):
        return asyncio.run(value)
    return value
