"""The facade's task class: a tasks-core `Task` named and returned as Celery does.

A task made by ``@app.task`` or ``@shared_task`` is a `tasks_core.task.Task` (tracked runs,
one engine, every tasks-core option) with Celery's conventions on top:

- its default name is Celery's, ``<module>.<function>`` (``__main__`` becomes the app's
  ``main`` name), so ``send_task("proj.add")`` and ``task_routes`` patterns written for
  Celery name it;
- ``.delay()`` and ``.apply_async()`` return Celery's result handle, `AsyncResult`, whose
  ``.result`` is a property (a native task's future keeps Prefect's ``.result()`` method).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from tasks_core.task import Task

__all__ = ["CeleryTask", "celery_task_name"]


def celery_task_name(fn: Callable[..., Any], main: str | None = None) -> str:
    """Celery's default task name: ``<module>.<qualname>``; a task defined in ``__main__``
    takes the app's ``main`` name as its module when one was given (Celery's
    ``gen_task_name``), else the running script's module name."""
    module = fn.__module__
    if module == "__main__":
        if main:
            module = main
        else:
            spec = getattr(sys.modules["__main__"], "__spec__", None)
            path = getattr(sys.modules["__main__"], "__file__", None) or "__main__"
            module = spec.name if spec is not None and spec.name else (
                str(path).rsplit("/", 1)[-1].removesuffix(".py"))
    return f"{module}.{fn.__qualname__}"


class CeleryTask(Task[Any, Any]):
    """A task as ``@app.task`` makes it (also Celery's ``Task`` base class for ``base=``)."""

    def delay(self, *args: Any, **kwargs: Any) -> Any:
        """Send a run (Celery's ``delay``); returns an `AsyncResult`."""
        return _as_async_result(super().delay(*args, **kwargs))

    def apply_async(self, *args: Any, **kwargs: Any) -> Any:
        """Send a run with Celery's calling options; returns an `AsyncResult`."""
        return _as_async_result(super().apply_async(*args, **kwargs))

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        """Run here and now, tracked (Celery's ``apply``); returns Celery's `EagerResult`."""
        return _as_async_result(super().apply(*args, **kwargs))

    def map(self, it: Any) -> Any:  # type: ignore[override]
        """Celery's ``map``: a signature of ONE run calling this task on each item in turn
        (`tasks_core.canvas.builtins`); native tasks keep Prefect's fan-out ``map``."""
        from tasks_core.canvas.builtins import map_signature

        return map_signature(self, it)

    def starmap(self, it: Any) -> Any:
        """Celery's ``starmap``: one run calling ``task(*item)`` on each item in turn."""
        from tasks_core.canvas.builtins import starmap_signature

        return starmap_signature(self, it)

    def chunks(self, it: Any, n: int) -> Any:
        """Celery's ``chunks``: a group of starmap runs over parts of `n` items."""
        from tasks_core.canvas.builtins import chunks_signature

        return chunks_signature(self, it, n)


def _as_async_result(future: Any) -> Any:
    """`future` as Celery's result handle of the same run: an `AsyncResult`, or Celery's
    `EagerResult` for a run made in eager mode (``.result`` a property in both)."""
    from tasks_core import eager
    from tasks_core.async_result import AsyncResult, EagerResult

    if isinstance(future, eager.EagerResult):
        return EagerResult(future.id, future.result(raise_on_failure=False), future.status,
                           future.traceback, future.name)
    return AsyncResult.from_future(future)
