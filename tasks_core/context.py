"""`get_run_context()`: the flow or task run executing here, as Prefect's
``prefect.context`` gives it (src/prefect/context.py).

    from tasks_core.context import get_run_context

    @task
    def where() -> str:
        ctx = get_run_context()          # a TaskRunContext here
        return ctx.task_run.name

Inside a task run it is a `TaskRunContext` (``.task_run``: the run's `RunRecord`,
``.task``: the `Task` when known here, ``.parameters``); inside a flow run a
`FlowRunContext` (``.flow_run``, ``.flow`` (None on a worker: the run was started from its
deployment), ``.parameters``). Outside any run it raises `MissingContextError` (also
raised by `get_run_logger`). ``TaskRunContext.get()`` / ``FlowRunContext.get()`` return
None instead of raising, as Prefect's do. `tags` (Prefect's ``prefect.context.tags``) is
here too.

Records are read as they were when the run started (the record of the run in this
context, looked up once: `engine.run_lookup`); read ``state`` through the store for a
live value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks_core.engine.context import current_run
from tasks_core.engine.run_lookup import run_record
from tasks_core.records import RunRecord
from tasks_core.run_logging import MissingContextError
from tasks_core.run_tags import tags

__all__ = ["FlowRunContext", "MissingContextError", "TaskRunContext", "get_run_context",
           "tags"]


@dataclass(frozen=True)
class TaskRunContext:
    """The task run executing here: its record, its task (when known) and parameters."""

    task_run: RunRecord
    task: Any = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def get(cls) -> TaskRunContext | None:
        """The context of the task run executing here; None outside one."""
        context = _current()
        return context if isinstance(context, TaskRunContext) else None


@dataclass(frozen=True)
class FlowRunContext:
    """The flow run executing here (or that the task here belongs to): its record, its
    flow (when called in this process) and parameters."""

    flow_run: RunRecord
    flow: Any = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def get(cls) -> FlowRunContext | None:
        """The flow run context here (in a task run: its flow run's); None outside one."""
        frame = current_run.get()
        if frame is None or frame.flow_run_id is None:
            return None
        record = run_record(frame.flow_run_id)
        if record is None:
            return None
        return FlowRunContext(record, None, dict(record.parameters))


def _current() -> TaskRunContext | FlowRunContext | None:
    frame = current_run.get()
    if frame is None:
        return None
    record = run_record(frame.run_id)
    if record is None:
        return None
    if frame.kind == "task":
        from tasks_core.registry import lookup

        return TaskRunContext(record, lookup(record.task_key), dict(record.parameters))
    return FlowRunContext(record, None, dict(record.parameters))


def get_run_context() -> TaskRunContext | FlowRunContext:
    """The context of the run executing here: a TaskRunContext inside a task run, else a
    FlowRunContext inside a flow run.

    Raises:
        MissingContextError: no flow or task run is executing in this context.
    """
    context = _current()
    if context is None:
        raise MissingContextError(
            "get_run_context() was called outside a flow or task run; call it inside the "
            "body of a @flow or @task")
    return context
