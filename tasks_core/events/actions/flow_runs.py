"""Running the flow-run actions: CancelFlowRun, ChangeFlowRunState."""

from __future__ import annotations

from tasks_core.errors import RunNotFound
from tasks_core.events.actions.context import ActionContext, ActionResult
from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.actions.models import CancelFlowRun, ChangeFlowRunState, FlowRunAction
from tasks_core.events.actions.targets import infer_target, resource_id
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, is_terminal
from tasks_core.store.runs import Transition

__all__ = ["cancel_flow_run", "change_flow_run_state", "flow_run_of"]


def flow_run_of(action: FlowRunAction, ctx: ActionContext) -> RunRecord:
    """The flow run the action names, or the one the event names (inferred).

    Raises:
        ActionFailed: none inferred, no such run, or it is a task run.
    """
    run_id = (infer_target(ctx.event, "flow-run", action=action.describe())
              if action.source == "inferred" else str(action.flow_run_id))
    try:
        record = get_runtime().store.get(run_id)
    except RunNotFound:
        raise ActionFailed(f"{action.describe()}: flow run {run_id!r} not found") from None
    if record.kind != "flow":
        raise ActionFailed(f"{action.describe()}: run {run_id} is a task run, not a flow run")
    return record


def _by(ctx: ActionContext) -> str:
    return f"automation {ctx.automation.name!r}"


def cancel_flow_run(action: CancelFlowRun, ctx: ActionContext) -> ActionResult:
    """Cancel the flow run and the runs inside it (`engine.cancel.cancel_run`). A run that
    already ended otherwise than Cancelled fails the action. Detail: ``{"flow_run_id",
    "state"}`` (Cancelled, or Cancelling while it stops where it runs)."""
    from tasks_core.engine.cancel import cancel_run

    record = flow_run_of(action, ctx)
    if is_terminal(record.state) and record.state != StateName.CANCELLED:
        raise ActionFailed(f"{action.describe()}: flow run {record.id} already ended "
                           f"{record.state.value}; nothing to cancel")
    state = cancel_run(record.id, reason=f"cancelled by {_by(ctx)}")
    return ActionResult(action.type, ctx.action_index, resource_id("flow-run", record.id),
                        {"flow_run_id": record.id, "state": state.value})


def change_flow_run_state(action: ChangeFlowRunState, ctx: ActionContext) -> ActionResult:
    """Move the flow run to ``action.state_name`` through the store's checked transition
    (only what the state machine allows). Detail: ``{"flow_run_id", "from", "to"}``.

    Raises:
        ActionFailed: the transition is refused (the run's state named).
    """
    record = flow_run_of(action, ctx)
    target = action.state_name
    message = action.message if action.message is not None else f"set by {_by(ctx)}"
    # not an attempt's outcome: if Redis errs, nothing is written (no stripped Failed)
    change = Transition(record.id, target, kind="flow", message=message)
    outcome = get_runtime().reporter.apply_now([change])[0]
    if outcome.missing:
        raise ActionFailed(f"{action.describe()}: flow run {record.id} no longer exists")
    if not outcome.applied:
        raise ActionFailed(f"{action.describe()}: flow run {record.id} is {outcome.state}; "
                           f"the state machine refuses {outcome.state} -> {target.value}")
    return ActionResult(action.type, ctx.action_index, resource_id("flow-run", record.id),
                        {"flow_run_id": record.id, "from": record.state.value,
                         "to": target.value})
