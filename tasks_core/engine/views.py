"""Read-only views of a run handed to user code: its state (`RunState`) and the run
(`RunView`), as state change hooks get them (``hook(task_or_flow, run, state)``) and as
``my_flow(..., return_state=True)`` returns the state.

The state is `tasks_core.states.State`. They follow Prefect's ``State`` and ``TaskRun``
/ ``FlowRun`` shapes where tasks-core has the same thing (``state.name``, ``state.type``,
``state.message``, ``state.is_failed()``, ``state.result()``; ``run.id``, ``run.name``,
``run.parameters``, ``run.tags``), and are
built from what the engine already holds when the run ends: no Redis read unless asked
(`RunView.record`). Pure: no I/O at import or construction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tasks_core.records import RunRecord
from tasks_core.states import State

__all__ = ["RunState", "RunView"]


RunState = State
"""A state of a run as hooks and ``return_state=True`` get it: the one `State` class
(`tasks_core.states.State`), under the name this module has always given it."""


@dataclass(frozen=True)
class RunView:
    """A task run or flow run as a hook sees it (Prefect's ``task_run`` / ``flow_run``).

    Attributes:
        id: the run id.
        kind: ``"task"`` or ``"flow"``.
        name: the task's or flow's name.
        parameters: the parameters as recorded (JSON values: a datetime is an ISO string);
            a hook that needs the Python objects decodes them with the task's or flow's
            signature (``task.parameters.decode``).
        state: the state the hook is called for (the same object as its third argument).
        attempt: the attempt (1-based) that ended, or that is starting (``on_running``).
        tags: the run's tags.
        task_key: ``module:qualname`` of a task run's task (empty for a flow run).
        parent_flow_run_id: the flow run it belongs to (a nested run), if any.
        parent_task_run_id: the parent's placeholder task run of a nested flow run.
        deployment_id: the deployment that started a flow run, if any.
    """

    id: str
    kind: str
    name: str
    parameters: dict[str, Any]
    state: RunState
    attempt: int
    tags: list[str] = field(default_factory=list)
    task_key: str = ""
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    deployment_id: str | None = None

    def record(self) -> RunRecord:
        """The run's full ledger entry, read from Redis now (history, times, worker...).

        Raises:
            RunNotFound: the record has expired.
        """
        from tasks_core.process_runtime import get_runtime  # a view is pure until asked to read

        return get_runtime().store.get(self.id)


def decode_parameters(text: str | None) -> dict[str, Any]:
    """Recorded parameters (JSON text) as a dict; empty when absent or unreadable (a hook
    must still be called)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
