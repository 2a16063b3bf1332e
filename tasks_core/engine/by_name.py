"""Celery's `send_task(name, args, kwargs, **options)`: a run of a task known only by name.

Celery sends a message naming the task; a worker that registered a task under that name
runs it (docs.celeryq.dev, userguide/calling, "send_task"). Here:

- a task registered in the calling process under `name` (its ``name=`` or Celery's default
  ``module.qualname``, `tasks_core.registry`) is sent as `Task.apply_async` would send it;
- otherwise the run is recorded with the name as its task key and the call's arguments as
  given (``{"__args__": [...], "__kwargs__": {...}}``): the worker finds the task by name
  (it must have imported the task's module: ``tasks-core worker --import proj``), binds
  the arguments to its signature and runs it with the task's own options (retries,
  timeout). A name no worker knows ends the run Failed (`TaskNotFound`), never in limbo.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tasks_core.engine import new_runs
from tasks_core.engine.apply import write_run
from tasks_core.engine.calling import CallOptions
from tasks_core.engine.context import current_run
from tasks_core.engine.parameters import encode_checked
from tasks_core.engine.tagged import loads_tagged, tag_values
from tasks_core.errors import ParameterError, ValidationError
from tasks_core.futures import TaskFuture
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunOptions
from tasks_core.registry import by_name
from tasks_core.routing import destination
from tasks_core.states import StateName

if TYPE_CHECKING:
    from tasks_core.engine.claim import ClaimedRun
    from tasks_core.task import Task

__all__ = ["SEND_TASK_OPTIONS", "adopt_sent_by_name", "send_task"]

SEND_TASK_OPTIONS = frozenset({
    "countdown", "eta", "queue", "priority", "task_id", "expires", "headers", "shadow",
    "retry", "retry_policy"})
"""The calling options `send_task` takes (Celery's names)."""

_ARGS, _KWARGS = "__args__", "__kwargs__"


@dataclass(frozen=True, slots=True)
class _Named:
    """What a run record needs of a task known only by its name."""

    name: str
    key: str
    tags: list[str] = field(default_factory=list)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > 200 or any(
            c.isspace() for c in name):
        raise ValidationError(f"send_task: task name must be a non-empty name without spaces "
                              f"of at most 200 characters, got {name!r:.80}")
    return name


def send_task(name: str, args: Iterable[Any] | None = None,
              kwargs: dict[str, Any] | None = None, **options: Any) -> TaskFuture[Any]:
    """Send a run of the task registered under `name` (Celery's ``app.send_task``).

    Args:
        name: the task's ``name=`` or Celery's default ``module.qualname``.
        args, kwargs: its arguments (JSON, as `.delay()` takes them).
        **options: `SEND_TASK_OPTIONS` (countdown, eta, queue, priority, task_id, expires,
            headers, shadow, retry, retry_policy), as `Task.apply_async` takes them.

    Returns:
        The run's future (`.id`, `.get()`, `.state`).

    Raises:
        ValidationError: a bad name or an option send_task does not take (naming it), or a
            bad option value; ParameterError: arguments with no JSON form.
    """
    _check_name(name)
    unknown = sorted(set(options) - SEND_TASK_OPTIONS)
    if unknown:
        raise ValidationError(f"send_task({name!r}): unknown options {unknown} (it takes "
                              f"{sorted(SEND_TASK_OPTIONS)})")
    local = by_name(name)
    if local is not None:
        return local.apply_async(None if args is None else list(args), kwargs, **options)
    return _send_unbound(name, list(args or ()), dict(kwargs or {}), **options)


def _send_unbound(name: str, args: list[Any], kwargs: dict[str, Any], *,
                  countdown: float | None = None, eta: datetime | None = None,
                  queue: str | None = None, priority: int | None = None,
                  **calling: Any) -> TaskFuture[Any]:
    rt = get_runtime()
    if countdown is not None and eta is not None:
        raise ValidationError("give countdown or eta, not both")
    if countdown is not None:
        eta = datetime.now(UTC) + timedelta(seconds=countdown)
    if eta is not None and eta.tzinfo is None:
        eta = eta.replace(tzinfo=UTC)
    options = CallOptions.of(**calling)
    params_json = encode_checked(tag_values({_ARGS: args, _KWARGS: kwargs}), owner=f"task {name!r}",
                                 max_bytes=rt.settings.parameters_max_bytes,
                                 max_depth=rt.settings.parameters_max_depth)
    queue, priority = destination(rt, name, args, kwargs, queue=queue, priority=priority,
                                  task_queue=None)
    run = new_runs.task_run(
        _Named(name, name), params_json, RunOptions(), current_run.get(),
        state=StateName.SCHEDULED if eta else StateName.PENDING, queue=queue,
        priority=priority, scheduled_time=eta, run_id=options.task_id or str(uuid.uuid4()))
    write_run(rt, run, options, eta)
    return TaskFuture(run.id, name)


def adopt_sent_by_name(task: Task[Any, Any], run: ClaimedRun) -> None:
    """On the worker: a run sent by name (`send_task`) gets its arguments bound to `task`'s
    signature and the task's own options; other runs are left as they are.

    Raises:
        ParameterError: the arguments do not fit the task (naming the task).
    """
    if not run.parameters.startswith('{"' + _ARGS):
        return
    raw = loads_tagged(run.parameters)
    if set(raw) != {_ARGS, _KWARGS}:
        return
    if not isinstance(raw[_ARGS], list) or not isinstance(raw[_KWARGS], dict):
        raise ParameterError(f"run {run.id}: arguments sent to {task.name!r} are malformed")
    parameters = task.parameters.bind(raw[_ARGS], raw[_KWARGS])
    run.parameters = task.encode_parameters(parameters)
    if run.options == RunOptions():
        run.options = task.options
