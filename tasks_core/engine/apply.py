"""Sending a run with Celery's calling options (`apply_async`'s task_id, expires, headers,
shadow, retry, retry_policy; the options are checked in `engine.calling`).

The run record carries the options (``expires``, ``headers``, ``shadow``) and is written
with its message in one step (`engine.sending`); a caller-given id that exists already
returns that run and sends nothing (the id is an idempotency key). Writing is retried on a
lost Redis by the call's retry policy; the write is idempotent by id, so a retry never makes
a second run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tasks_core.engine import new_runs
from tasks_core.engine.caching import cache_key
from tasks_core.engine.calling import CallOptions, with_retries
from tasks_core.engine.context import current_run
from tasks_core.engine.sending import outgoing, run_envelope
from tasks_core.futures import TaskFuture
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.records import RunRecord
from tasks_core.routing import destination
from tasks_core.states import StateName

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["send_with_options", "write_run"]


def send_with_options(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                      options: CallOptions, *, eta: datetime | None = None,
                      queue: str | None = None, priority: int | None = None,
                      limits: dict[str, Any] | None = None) -> TaskFuture[Any]:
    """Create and send a run of `task` with `options`; its future (the existing run's when
    ``options.task_id`` names one already).

    Raises:
        ParameterError: the arguments do not fit the task (naming the parameter).
        StoreUnavailable: Redis stayed away through the retry policy.
    """
    rt = get_runtime()
    parent = current_run.get()
    parameters = task.parameters.bind(args, kwargs)
    params_json = task.encode_parameters(parameters)
    run_id = options.task_id or str(uuid.uuid4())
    key = cache_key(task, run_id, parameters) if task.caches else None
    queue, priority = destination(rt, task.name, args, kwargs, queue=queue,
                                  priority=priority, task_queue=task.queue,
                                  task_priority=task.priority)
    run_options = new_runs.run_options(task, parent, cache_key=key)
    if limits:  # the call's soft_time_limit / time_limit (tasks_core.task_options)
        run_options = run_options.model_copy(update=limits)
    run = new_runs.task_run(
        task, params_json, run_options, parent,
        state=StateName.SCHEDULED if eta else StateName.PENDING, queue=queue,
        priority=priority, scheduled_time=eta, run_id=run_id)
    write_run(rt, run, options, eta)
    return TaskFuture(run.id, task.name, task.return_type)


def write_run(rt: Runtime, run: RunRecord, options: CallOptions,
              eta: datetime | None) -> bool:
    """Write `run` (with the options' expires, headers and shadow) and send its message,
    now or, with a future `eta`, from beat's due set; whether it was created (False: a run
    with its id exists, nothing sent)."""
    run.expires = options.expires
    run.headers = options.headers
    run.shadow = options.shadow

    def write() -> bool:
        if eta is not None and eta > datetime.now(UTC):
            return bool(rt.store.create(run, due=eta))
        message = outgoing(rt, run_envelope(run, 1))
        created = bool(rt.store.create(run, message.push))
        message.after(rt, created)
        return created

    created = with_retries(write, options.retry, options.retry_policy)
    if created and options.expires is not None:
        rt.expiring.add(run.id, options.expires)
    return created
