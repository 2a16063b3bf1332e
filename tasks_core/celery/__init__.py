"""Celery's task API on tasks-core: port a Celery project by changing its import lines.

    from tasks_core.celery import Celery, shared_task, chain, group, chord
    from tasks_core.celery.result import AsyncResult, GroupResult

    app = Celery("proj")            # broker=/backend= as in Celery; see `Celery`

    @app.task(bind=True, autoretry_for=(ConnectionError,))
    def add(self, x, y): ...

Celery's own modules that carry no app state keep their import lines and work unchanged:
`celery.exceptions` (SoftTimeLimitExceeded, Retry, TimeoutError, ...), `celery.schedules`
(crontab) and `celery.signals`. Names are looked up lazily, so importing this package costs
nothing until a name is used. The README's "Coming from Celery" section lists what maps to
what, and what differs on purpose (stronger guarantees of the run ledger).
"""

from __future__ import annotations

import importlib
from typing import Any

from tasks_core.celery.app import Celery, current_app, shared_task
from tasks_core.celery.task import CeleryTask

__all__ = ["AsyncResult", "Celery", "CeleryTask", "Signature", "Task", "chain", "chord",
           "chunks", "current_app", "group", "maybe_signature", "shared_task", "signature",
           "xmap", "xstarmap"]

Task = CeleryTask
"""Celery's ``celery.Task`` (a base class for ``base=``): the facade's task class."""

_LAZY: dict[str, str] = {
    "AsyncResult": "tasks_core.async_result",
    "Signature": "tasks_core.canvas",
    "signature": "tasks_core.canvas",
    "maybe_signature": "tasks_core.canvas",
    "chain": "tasks_core.canvas",
    "group": "tasks_core.canvas",
    "chord": "tasks_core.canvas",
    "chunks": "tasks_core.canvas",
    "xmap": "tasks_core.canvas",
    "xstarmap": "tasks_core.canvas",
}


def __getattr__(name: str) -> Any:
    """Canvas primitives and result classes, imported when first used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
