"""Flow runs called directly, in this process (and nested flows).

Parameters are validated and coerced from the signature before anything is recorded;
tasks called inside link to the run through its frame; a flow called from a flow (or a
task) is a child flow run with a placeholder task run in the parent, whose end mirrors
the child's (`lifecycle.mirror`). The body's value is returned as it is; the run records
it when it has a JSON form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tasks_core.engine import new_runs
from tasks_core.engine.attempt import Body, call_attempt, call_attempt_async
from tasks_core.engine.celery_view import show
from tasks_core.engine.context import RunFrame, current_run
from tasks_core.engine.hooks import RunHooks
from tasks_core.engine.lifecycle import RunHandle, failsafe, run_attempts, run_attempts_async
from tasks_core.engine.outcome import Decision
from tasks_core.process_runtime import Runtime, get_runtime

if TYPE_CHECKING:
    from tasks_core.flow import Flow

__all__ = ["run_flow", "run_flow_async"]


def _start(rt: Runtime, flow: Flow[Any, Any], args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> tuple[RunHandle, Body]:
    """Validate the parameters (ParameterError before anything is recorded), then record
    the run (and its placeholder when nested); its handle and body."""
    parent = current_run.get()
    parameters = flow.parameters.coerce(flow.parameters.bind(args, kwargs))
    call_args, call_kwargs = flow.parameters.arguments(parameters)
    rendered = flow.parameters.render(parameters, max_bytes=rt.settings.parameters_max_bytes)
    options = new_runs.run_options(flow, parent)
    placeholder_id = None
    if parent is not None:
        placeholder = new_runs.placeholder_run(parent, flow.name, f"subflow:{flow.name}",
                                               rendered, flow.tags, rt.owner)
        rt.reporter.create(placeholder)
        placeholder_id = placeholder.id
    run = new_runs.flow_run(flow, rendered, options, parent, placeholder_id, rt.owner)
    rt.reporter.create(run)
    frame = RunFrame(run.id, "flow", run.id, options.log_prints,
                     parent.root if parent else None)
    body = Body(flow.invoke_async if flow.is_async else flow.invoke, call_args, call_kwargs,
                frame=frame, owner=f"flow {flow.name!r}",
                timeout_seconds=options.timeout_seconds, store_result=False,
                result_max_bytes=rt.settings.result_max_bytes,
                result_storage=options.result_storage)
    handle = RunHandle(run.id, "flow", options, frame, placeholder_id=placeholder_id,
                       hooks=RunHooks.of_record(flow, run))
    show(handle, flow.name, run.argsrepr, parent.run_id if parent else None)
    return handle, body


def run_flow(flow: Flow[Any, Any], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> tuple[Decision, str]:
    """Run `flow` now, here, as a tracked flow run; how it ended, and its run id."""
    rt = get_runtime()
    handle, body = _start(rt, flow, args, kwargs)
    with failsafe(rt, handle, 1, reraise=True):
        decision = run_attempts(rt, handle, lambda: call_attempt(body))
    return decision, handle.run_id


async def run_flow_async(flow: Flow[Any, Any], args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> tuple[Decision, str]:
    """`run_flow` for an async flow, on the caller's event loop."""
    rt = get_runtime()
    handle, body = _start(rt, flow, args, kwargs)
    with failsafe(rt, handle, 1, reraise=True):
        decision = await run_attempts_async(rt, handle, lambda: call_attempt_async(body))
    return decision, handle.run_id
