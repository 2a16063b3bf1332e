"""``celery.result`` on tasks-core: `AsyncResult` (a run by id), `GroupResult`, `ResultSet`.

Port ``from celery.result import AsyncResult`` as ``from tasks_core.celery.result import
AsyncResult``. The classes live with the engine's futures and canvas; names are looked up
when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "AsyncResult": "tasks_core.async_result",
    "EagerResult": "tasks_core.eager",
    "GroupResult": "tasks_core.canvas",
    "ResultSet": "tasks_core.canvas",
}

__all__ = sorted(_LAZY)  # AsyncResult, EagerResult, GroupResult, ResultSet


def __getattr__(name: str) -> Any:
    """The result class `name`, imported when first used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
