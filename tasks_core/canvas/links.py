"""`apply_async(link=, link_error=)` on a task (Celery's calling#calling-links).

The callbacks are created with the run, held (Paused), and released by the run's own
terminal transition: `link` signatures with its result as their first argument when it
completes, `link_error` signatures with its run id as their first argument when it fails
(Celery's errback called with the parent task's id; Celery's other form, a task taking
``(request, exc, traceback)``, needs objects that are not JSON and is not offered). The
callbacks that do not apply end Cancelled ("not needed"), so none is left waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tasks_core.canvas.send import send
from tasks_core.canvas.signatures import Signature

__all__ = ["send_linked"]


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def send_linked(task: Any, args: Sequence[Any] | None, kwargs: dict[str, Any] | None, *,
                countdown: float | None = None, eta: datetime | None = None,
                queue: str | None = None, priority: int | None = None, link: Any = None,
                link_error: Any = None) -> Any:
    """Send a run of `task` with its callbacks; its result handle (`CanvasResult`).

    Raises:
        ConfigurationError: a callback is not a signature, or countdown and eta are both
            given.
        ParameterError: the arguments (of the task or a callback) do not fit.
    """
    options: dict[str, Any] = {
        key: value for key, value in (("countdown", countdown), ("eta", eta),
                                      ("queue", queue), ("priority", priority))
        if value is not None}
    options["link"] = _listed(link)
    options["link_error"] = _listed(link_error)
    return send(Signature(task, tuple(args or ()), dict(kwargs or {}), options))
