"""``task_run.<attribute>``: the task run executing here (Prefect's
``prefect.runtime.task_run``); empty values outside one. See `tasks_core.runtime`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tasks_core.engine.run_lookup import attempt_of
from tasks_core.records import RunRecord
from tasks_core.runtime._lookup import current_task_run, run_name

_READ: dict[str, tuple[Callable[[RunRecord], Any], Callable[[], Any]]] = {
    "id": (lambda r: r.id, lambda: None),
    "name": (run_name, lambda: None),
    "task_name": (lambda r: r.name, lambda: None),
    "parameters": (lambda r: dict(r.parameters), dict),
    "tags": (lambda r: list(r.tags), list),
    "run_count": (lambda r: attempt_of(r.id), lambda: 0),
}

__all__ = sorted(_READ)  # read through __getattr__ below


def __getattr__(attribute: str) -> Any:
    if attribute not in _READ:
        raise AttributeError(f"tasks_core.runtime.task_run has no attribute {attribute!r} "
                             f"(it has: {', '.join(__all__)})")
    read, empty = _READ[attribute]
    record = current_task_run()
    return empty() if record is None else read(record)


def __dir__() -> list[str]:
    return sorted(_READ)
