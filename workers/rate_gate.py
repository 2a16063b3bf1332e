"""The rate limit gate: a run of a rate-limited task starts only in its slot.

Before a run's message is claimed, the worker takes the task's next start from its shared
token bucket (`tasks_core.store.rate_limits`, one per task name, across all workers). Over
the limit, the run is not claimed: its message is sent again with an ETA at its reserved
slot, marked so it is not gated twice, and this delivery is acked (`Ignore`). The run stays
Pending meanwhile: it waits, it does not fail (`tasks_core.rate_limits`).

`celery control rate_limit <task name> <rate>` changes the limit of a tasks-core task for
every worker (`install_rate_limit_command`); other names go to Celery's own command.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery.utils.time import rate
from celery.worker import control

from tasks_core.engine.message_headers import RATE_RESERVED_HEADER, TASK_HEADER
from tasks_core.engine.sending import outgoing, run_envelope
from tasks_core.errors import TaskNotFound
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.registry import by_name, known_as
from tasks_core.store.runs import utcnow

__all__ = ["install_rate_limit_command", "rate_deferred"]

log = logging.getLogger("tasks_core.worker")


def _limit_of(name: str) -> float | None:
    try:
        task = by_name(name)
    except TaskNotFound:
        log.warning("rate limit of %r not applied: the name is ambiguous here", name)
        return None
    return getattr(task, "rate_per_second", None) if task is not None else None


def rate_deferred(rt: Runtime, request: Any, run_id: str, attempt: int) -> bool:
    """Whether the run in `request` (a Celery request) was sent back to wait for its rate
    limit slot (the caller then drops this delivery); False: it may start now."""
    name = getattr(request, TASK_HEADER, None)
    if not name or getattr(request, RATE_RESERVED_HEADER, None):
        return False
    per_second = _limit_of(name)
    if per_second is None:
        return False
    wait = rt.rate_limits.take(name, per_second)
    if not wait:
        return False
    record = rt.store.get(run_id)
    envelope = run_envelope(record, attempt, utcnow() + timedelta(seconds=wait))
    envelope.headers = {**envelope.headers, RATE_RESERVED_HEADER: 1}
    message = outgoing(rt, envelope)
    if message.push is not None:
        rt.queues.push([message.push])
    message.after(rt, True)
    log.info("run %s of %s waits %.2fs for its rate limit slot", run_id, name, wait)
    return True


def install_rate_limit_command() -> None:
    """Make ``celery control rate_limit`` set a tasks-core task's shared limit (a task
    this worker knows by name); other names get Celery's own command."""
    celery_command = control.Panel.data["rate_limit"]
    if getattr(celery_command, "tasks_core", False):
        return  # installed already

    @control.control_command(  # type: ignore[untyped-decorator]
        args=[("task_name", str), ("rate_limit", str)],
        signature="<task_name> <rate_limit (e.g., 5/s | 5/m | 5/h)>")
    def rate_limit(state: Any, task_name: str, rate_limit: str, **kwargs: Any) -> Any:
        if known_as(task_name) is None:
            return celery_command(state, task_name, rate_limit, **kwargs)
        try:
            per_second = float(rate(rate_limit))
        except (ValueError, KeyError) as exc:
            return control.nok(f"Invalid rate limit string: {exc!r}")
        get_runtime().rate_limits.set_rate(task_name, per_second)
        return control.ok("new rate limit set successfully")

    rate_limit.tasks_core = True
