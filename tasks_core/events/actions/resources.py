"""Running the actions on work pools, work queues and automations."""

from __future__ import annotations

from tasks_core.errors import NotFoundError
from tasks_core.events.actions.context import ActionContext, ActionResult
from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.actions.models import (
    AutomationAction,
    PauseAutomation,
    PauseWorkPool,
    ResumeAutomation,
    ResumeWorkPool,
    WorkPoolAction,
    WorkQueueAction,
)
from tasks_core.events.actions.targets import infer_target, resource_id

__all__ = ["WORK_QUEUE_UNSUPPORTED", "pause_or_resume_automation", "pause_or_resume_pool",
           "refuse_work_queue"]

WORK_QUEUE_UNSUPPORTED = ("pausing a single work queue is not supported (a pool's queues "
                          "are paused together); use PauseWorkPool / ResumeWorkPool")


def pause_or_resume_pool(action: PauseWorkPool | ResumeWorkPool,
                         ctx: ActionContext) -> ActionResult:
    """Pause or resume the pool (`work_pools.pause_pool` / `resume_pool`). Detail:
    ``{"work_pool", "paused", "woken"}`` (woken: the runs sent again on resume)."""
    from tasks_core.work_pools import pause_pool, resume_pool

    name = _pool_name(action, ctx)
    paused = isinstance(action, PauseWorkPool)
    woken: list[str] = []
    try:
        if paused:
            pause_pool(name)
        else:
            woken = resume_pool(name)
    except NotFoundError as exc:
        raise ActionFailed(f"{action.describe()}: {exc}") from None
    return ActionResult(action.type, ctx.action_index, resource_id("work-pool", name),
                        {"work_pool": name, "paused": paused, "woken": len(woken)})


def _pool_name(action: WorkPoolAction, ctx: ActionContext) -> str:
    if action.source == "inferred":
        return infer_target(ctx.event, "work-pool", action=action.describe())
    return str(action.work_pool_name)


def refuse_work_queue(action: WorkQueueAction, ctx: ActionContext) -> ActionResult:
    """Work queues cannot be paused on their own: always `ActionFailed` (see
    `WORK_QUEUE_UNSUPPORTED`; `check_action` refuses such an action when it is saved)."""
    raise ActionFailed(f"{action.describe()}: {WORK_QUEUE_UNSUPPORTED}")


def pause_or_resume_automation(action: PauseAutomation | ResumeAutomation,
                               ctx: ActionContext) -> ActionResult:
    """Pause or resume an automation through ``ctx.set_automation_enabled``. Detail:
    ``{"automation", "enabled"}``."""
    key = _automation_key(action, ctx)
    enabled = isinstance(action, ResumeAutomation)
    if ctx.set_automation_enabled is None:
        raise ActionFailed(f"{action.describe()}: this engine cannot change automations "
                           f"(no set_automation_enabled in the action context)")
    try:
        ctx.set_automation_enabled(key, enabled)
    except Exception as exc:  # the automation store's refusal: not found, ...
        raise ActionFailed(f"{action.describe()}: {type(exc).__name__}: {exc}") from None
    return ActionResult(action.type, ctx.action_index, resource_id("automation", key),
                        {"automation": key, "enabled": enabled})


def _automation_key(action: AutomationAction, ctx: ActionContext) -> str:
    if action.source == "inferred":
        return infer_target(ctx.event, "automation", action=action.describe())
    return str(action.automation_name or action.automation_id)
