"""Running the actions on work pools, work queues and automations."""

from __future__ import annotations

from tasks_core.errors import NotFoundError, ValidationError
from tasks_core.events.actions.context import ActionContext, ActionResult
from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.actions.models import (
    AutomationAction,
    PauseAutomation,
    PauseWorkPool,
    PauseWorkQueue,
    ResumeAutomation,
    ResumeWorkPool,
    ResumeWorkQueue,
    WorkPoolAction,
    WorkQueueAction,
)
from tasks_core.events.actions.targets import infer_target, resource_id

__all__ = ["pause_or_resume_automation", "pause_or_resume_pool", "pause_or_resume_queue"]


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


def pause_or_resume_queue(action: PauseWorkQueue | ResumeWorkQueue,
                          ctx: ActionContext) -> ActionResult:
    """Pause or resume one work queue of a pool (`work_pools.pause_queue` /
    `resume_queue`). Detail: ``{"work_pool", "work_queue", "paused", "woken"}`` (woken:
    the runs sent again on resume)."""
    from tasks_core.work_pools import pause_queue, resume_queue

    pool, queue = _queue_id(action, ctx)
    paused = isinstance(action, PauseWorkQueue)
    woken: list[str] = []
    try:
        if paused:
            pause_queue(pool, queue)
        else:
            woken = resume_queue(pool, queue)
    except (NotFoundError, ValidationError) as exc:
        raise ActionFailed(f"{action.describe()}: {exc}") from None
    return ActionResult(action.type, ctx.action_index,
                        resource_id("work-queue", f"{pool}:{queue}"),
                        {"work_pool": pool, "work_queue": queue, "paused": paused,
                         "woken": len(woken)})


def _queue_id(action: WorkQueueAction, ctx: ActionContext) -> tuple[str, str]:
    if action.source == "selected":
        pool, _, queue = str(action.work_queue_id).partition(":")
        return pool, queue
    key = infer_target(ctx.event, "work-queue", action=action.describe())
    pool, sep, queue = key.partition(":")
    if not sep or not pool or not queue:
        raise ActionFailed(f"{action.describe()}: the event's work queue "
                           f"'tasks-core.work-queue.{key}' does not read "
                           f"'tasks-core.work-queue.<pool>:<queue>'")
    return pool, queue


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
