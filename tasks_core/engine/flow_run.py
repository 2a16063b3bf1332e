"""The flow-run engine: a flow run (and, when nested, its placeholder in the parent).

A flow runs in this process on the shared attempt loop (`drive_attempts`): parameters are
validated first, tasks called inside it link to it through the run frame, and a flow
called from a flow becomes a child flow run with a placeholder task run in the parent,
whose final state mirrors the child's.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks_core.engine.params import bind_parameters, call_arguments, dumps_parameters
from tasks_core.engine.task_run import (
    AttemptResult,
    RunFrame,
    current_run,
    drive_attempts,
    drive_attempts_async,
    outcome_transition,
)
from tasks_core.events.schema import run_related
from tasks_core.runtime import get_runtime
from tasks_core.states import StateName
from tasks_core.store.runs import NewRun, utcnow

if TYPE_CHECKING:
    from tasks_core.flow import Flow

__all__ = ["begin_flow_run", "placeholder_run", "prepare_flow_run", "run_flow",
           "run_flow_async"]


def _base_fields(name: str, params_json: str, tags: list[str]) -> dict[str, str]:
    rt = get_runtime()
    return {
        "name": name,
        "parameters": params_json,
        "tags": json.dumps(tags),
        "attempt": "1",
        "owner": rt.owner,
        "worker": rt.owner.rsplit(":", 1)[0],
        "start_time": utcnow().isoformat(),
    }


def placeholder_run(parent: RunFrame, name: str, task_key: str, fields: dict[str, str],
                    tags: list[str]) -> NewRun:
    """The task run standing in a parent run for a nested flow run (or a deployment run)."""
    return NewRun(
        id=str(uuid.uuid4()), kind="task", state=StateName.RUNNING,
        fields={**fields, "name": name, "task_key": task_key,
                "parent_flow_run_id": parent.flow_run_id or "",
                "parent_task_run_id": parent.run_id if parent.kind == "task" else ""},
        related=run_related(task_name=name, kind="task", parent_flow_run_id=parent.flow_run_id,
                            tags=tags))


def begin_flow_run(flow: Flow[Any, Any], params_json: str) -> tuple[RunFrame, str | None]:
    """Create the flow run (and its placeholder when nested); its frame and placeholder id."""
    rt = get_runtime()
    parent = current_run.get()
    parent_flow = parent.flow_run_id if parent else None
    placeholder_id = None
    if parent is not None:
        placeholder = placeholder_run(parent, flow.name, f"subflow:{flow.name}",
                                      _base_fields(flow.name, params_json, flow.tags), flow.tags)
        rt.reporter.create(placeholder)
        placeholder_id = placeholder.id
    run = NewRun(
        id=str(uuid.uuid4()), kind="flow", state=StateName.RUNNING,
        fields={**_base_fields(flow.name, params_json, flow.tags),
                "flow_version": flow.version or "",
                "parent_flow_run_id": parent_flow or "",
                "parent_task_run_id": placeholder_id or "",
                "options": flow.options_json},
        related=run_related(task_name=flow.name, kind="flow", parent_flow_run_id=parent_flow,
                            tags=flow.tags))
    rt.reporter.create(run)
    return RunFrame(run.id, "flow", run.id), placeholder_id


@dataclass(slots=True)
class PreparedFlowRun:
    """A flow run recorded as started, with the arguments to call its function with."""

    frame: RunFrame
    placeholder_id: str | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def prepare_flow_run(
    flow: Flow[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> PreparedFlowRun:
    """Validate the parameters (before anything is recorded), then record the run."""
    rt = get_runtime()
    parameters = bind_parameters(flow.fn, flow.signature, args, kwargs)
    if flow.validator is not None:
        parameters = flow.validator.validate(parameters)
    call_args, call_kwargs = call_arguments(flow.signature, parameters)
    params_json = dumps_parameters(flow.name, parameters, rt.settings.parameters_max_bytes)
    frame, placeholder_id = begin_flow_run(flow, params_json)
    return PreparedFlowRun(frame, placeholder_id, tuple(call_args), call_kwargs)


def finish_flow_run(prepared: PreparedFlowRun, result: AttemptResult) -> tuple[AttemptResult, str]:
    """Mirror the final state onto the parent's placeholder; the result and the run id."""
    if prepared.placeholder_id is not None:
        mirror = outcome_transition(prepared.placeholder_id, 1, result)
        mirror.fields = {**mirror.fields, "result_ref": "", "result_size": "0"}
        mirror.result_json = None
        get_runtime().reporter.transition(mirror, urgent=True)
    return result, prepared.frame.run_id


def run_flow(
    flow: Flow[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[AttemptResult, str]:
    """Run `flow` now in this process as a tracked flow run; how it ended, and its run id."""
    run = prepare_flow_run(flow, args, kwargs)
    result = drive_attempts(flow, run.frame, run.args, run.kwargs, invoke=flow.invoke,
                            store=True)
    return finish_flow_run(run, result)


async def run_flow_async(
    flow: Flow[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[AttemptResult, str]:
    """`run_flow` for an async flow, on the caller's event loop."""
    run = prepare_flow_run(flow, args, kwargs)
    result = await drive_attempts_async(flow, run.frame, run.args, run.kwargs,
                                        invoke=flow.invoke_async, store=True)
    return finish_flow_run(run, result)
