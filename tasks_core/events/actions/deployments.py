"""Running the deployment actions: RunDeployment, PauseDeployment, ResumeDeployment."""

from __future__ import annotations

from datetime import timedelta

from tasks_core.deployment_models import Deployment
from tasks_core.errors import NotFoundError, TasksCoreError
from tasks_core.events.actions.context import ActionContext, ActionResult
from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.actions.models import (
    DeploymentAction,
    PauseDeployment,
    ResumeDeployment,
    RunDeployment,
)
from tasks_core.events.actions.targets import infer_target, resource_id
from tasks_core.process_runtime import get_runtime
from tasks_core.records import TriggeredBy

__all__ = ["deployment_of", "pause_or_resume", "run_deployment"]


def deployment_of(action: DeploymentAction, ctx: ActionContext) -> Deployment:
    """The deployment the action names, or the one the event names (inferred).

    Raises:
        ActionFailed: none inferred, or no such deployment (close names suggested).
    """
    key = (infer_target(ctx.event, "deployment", action=action.describe())
           if action.source == "inferred" else action.deployment_name or action.deployment_id)
    try:
        return get_runtime().deployments.get(str(key))
    except (NotFoundError, TasksCoreError) as exc:
        raise ActionFailed(f"{action.describe()}: {exc}") from None


def run_deployment(action: RunDeployment, ctx: ActionContext) -> ActionResult:
    """Create the flow run (once per idempotency key) with the rendered parameters,
    scheduled `schedule_after` from now, recording the automation and event that started
    it. Detail: ``{"flow_run_id", "created", "deployment", "scheduled_time"}``."""
    from tasks_core.deployments.runs import create_triggered_run

    deployment = deployment_of(action, ctx)
    later = action.schedule_after > timedelta(0)
    when = ctx.at() + action.schedule_after if later else None
    event = ctx.event
    by = TriggeredBy(automation_id=ctx.automation.id, automation_name=ctx.automation.name,
                     event_id=event.id if event else None,
                     event=event.event if event else None,
                     firing_id=ctx.firing.id if ctx.firing else None)
    try:
        run_id, created = create_triggered_run(
            deployment, action.parameters, idempotency_key=ctx.idempotency_key,
            triggered_by=by, scheduled_time=when)
    except TasksCoreError as exc:  # ParameterError: a rendered parameter did not validate
        raise ActionFailed(f"{action.describe()}: {exc}") from None
    return ActionResult(action.type, ctx.action_index,
                        resource_id("deployment", deployment.id),
                        {"flow_run_id": run_id, "created": created,
                         "deployment": deployment.full_name,
                         "scheduled_time": when.isoformat() if when else None})


def pause_or_resume(action: PauseDeployment | ResumeDeployment,
                    ctx: ActionContext) -> ActionResult:
    """Pause or resume the deployment (`deployments.set_paused`). Detail:
    ``{"deployment", "paused"}``."""
    from tasks_core.deployments.define import set_paused

    deployment = deployment_of(action, ctx)
    paused = isinstance(action, PauseDeployment)
    try:
        set_paused(deployment.id, paused)
    except NotFoundError as exc:  # deleted since it was read
        raise ActionFailed(f"{action.describe()}: {exc}") from None
    return ActionResult(action.type, ctx.action_index,
                        resource_id("deployment", deployment.id),
                        {"deployment": deployment.full_name, "paused": paused})
