"""Tasks by key and name, and resolving a task key to its function on a worker."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tasks_core.errors import TaskNotFound

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["named", "register", "resolve"]

_by_key: dict[str, Task[Any, Any]] = {}


def register(task: Task[Any, Any]) -> None:
    """Remember a task under its key (``module:qualname``)."""
    _by_key[task.key] = task


def resolve(key: str) -> Task[Any, Any]:
    """The task with this key, importing its module when needed.

    Raises TaskNotFound naming the key and how to make it importable on the worker.
    """
    found = _by_key.get(key)
    if found is not None:
        return found
    module_name, _, qualname = key.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise TaskNotFound(
            f"task {key!r} is not known to this worker: importing {module_name!r} failed "
            f"({type(exc).__name__}: {exc}); start the worker with --import {module_name} "
            "and make sure the module is on its PYTHONPATH"
        ) from None
    found = _by_key.get(key)
    if found is None:
        obj: Any = module
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if obj is not None and hasattr(obj, "fn") and hasattr(obj, "key"):
            found = obj
    if found is None:
        raise TaskNotFound(
            f"task {key!r} is not known to this worker: module {module_name!r} has no task "
            f"{qualname!r} (is it decorated with @task, and is the worker's code up to date?)"
        )
    return found


def named(name: str) -> list[Task[Any, Any]]:
    """The tasks this process knows whose `name=` is `name` (none, one or several)."""
    return [task for task in _by_key.values() if task.name == name]
