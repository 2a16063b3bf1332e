"""What the runtime modules read: the task run and flow run in this context."""

from __future__ import annotations

from tasks_core.engine.context import current_run
from tasks_core.engine.run_lookup import run_record
from tasks_core.records import RunRecord

__all__ = ["current_flow_run", "current_task_run", "run_name"]


def current_task_run() -> RunRecord | None:
    """The task run executing in this context (None: none, or a flow run)."""
    frame = current_run.get()
    if frame is None or frame.kind != "task":
        return None
    return run_record(frame.run_id)


def current_flow_run() -> RunRecord | None:
    """The flow run executing in this context, or the one the task here belongs to."""
    frame = current_run.get()
    if frame is None or frame.flow_run_id is None:
        return None
    return run_record(frame.flow_run_id)


def run_name(record: RunRecord) -> str:
    """A run's own name (`task_run_name` / `flow_run_name`), else its task's or flow's."""
    own = record.flow_run_name if record.kind == "flow" else record.task_run_name
    return own or record.name
