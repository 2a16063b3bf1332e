"""Tasks by key and name, and resolving a task key (or a registered name) on a worker.

A task is registered under its key (``module:qualname``), its ``name=`` and Celery's
default name ``module.qualname``, so Celery's `send_task("proj.mul")` reaches it. A name
is known to a worker only once the module defining the task is imported there (``tasks-core
worker --import proj``); a dotted name is also tried as ``module.function`` by importing
its module. A name two different tasks share is refused as ambiguous.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import TYPE_CHECKING, Any

from tasks_core.errors import TaskNotFound

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["by_name", "celery_name", "known_as", "lookup", "named", "register", "resolve"]

_by_key: dict[str, Task[Any, Any]] = {}
_by_name: dict[str, dict[str, Task[Any, Any]]] = {}


def celery_name(key: str) -> str:
    """Celery's default name of the task with this key: ``module.qualname``."""
    return key.replace(":", ".", 1)


def register(task: Task[Any, Any]) -> None:
    """Remember a task under its key (``module:qualname``), its name and Celery's default
    name (`celery_name`)."""
    _by_key[task.key] = task
    for name in {task.name, celery_name(task.key)}:
        _by_name.setdefault(name, {})[task.key] = task


def by_name(name: str) -> Task[Any, Any] | None:
    """The task registered in this process under `name` (None: none is).

    Raises:
        TaskNotFound: two different tasks are registered under `name`.
    """
    found = _by_name.get(name)
    if not found:
        return None
    if len(found) > 1:
        raise TaskNotFound(f"task name {name!r} is ambiguous: tasks {sorted(found)} share it; "
                           "give them distinct name= options")
    return next(iter(found.values()))


def known_as(name: str) -> Task[Any, Any] | None:
    """The task registered in this process under `name`; None when none or several are."""
    try:
        return by_name(name)
    except TaskNotFound:
        return None


def _resolve_name(name: str) -> Task[Any, Any]:
    found = by_name(name)
    module_name = name.rpartition(".")[0]
    if found is None and module_name:
        # not Celery's default name of an importable module: not found, said below
        with contextlib.suppress(Exception):
            importlib.import_module(module_name)
        found = by_name(name)
    if found is None:
        raise TaskNotFound(
            f"no task is registered under the name {name!r} on this worker: start the worker "
            "with --import MODULE for the module that defines it (a task is known by name "
            "once its module is imported)")
    return found


def lookup(key: str) -> Task[Any, Any] | None:
    """The task registered under this key in this process (None: not imported here)."""
    return _by_key.get(key)


def resolve(key: str) -> Task[Any, Any]:
    """The task with this key, importing its module when needed.

    Raises TaskNotFound naming the key and how to make it importable on the worker.
    """
    found = _by_key.get(key)
    if found is not None:
        return found
    if ":" not in key:  # a run sent by name (send_task)
        return _resolve_name(key)
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
