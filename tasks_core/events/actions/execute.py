"""`execute_action`: run one action of a firing, and record what happened as an event.

    result = execute_action(action, ActionContext(automation=AutomationRef(id, name),
                                                  event=firing.event, firing=firing,
                                                  action_index=i,
                                                  idempotency_key=f"{firing.id}:{i}"))

Order: the templated fields are rendered (`templates.render_action`, context from
`template_context`), then the action runs (one function per kind: `deployments`,
`flow_runs`, `resources`, `notify`, `webhook`). Every execution emits one event:

    tasks-core.automation.action.executed | tasks-core.automation.action.failed
        resource  {"tasks-core.resource.id": "tasks-core.automation.<id>",
                   "tasks-core.resource.name": "<automation name>",
                   "tasks-core.action.type": "run-deployment", "tasks-core.action.index": "0"}
        related   the automation (role "automation"), the target (role: its kind, e.g.
                  "deployment"), the flow run created (role "flow-run")
        payload   {"action_type", "action_index", "action" (described), "idempotency_key",
                   "firing_id", "triggering_event", ...the result's detail | "error"}
        follows   the triggering event's id
        id        derived from the idempotency key and the outcome, so executing the same
                  action of the same firing again writes no second event

Only `ActionFailed` leaves `execute_action`: a template error, a store error or any
exception of an action is turned into one (StoreUnavailable: ``retryable=True``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from tasks_core.errors import NotFoundError, StoreUnavailable, TasksCoreError, TemplateError
from tasks_core.events.actions import deployments, flow_runs, notify, resources, webhook
from tasks_core.events.actions.context import ActionContext, ActionResult
from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.actions.models import Action
from tasks_core.events.actions.targets import infer_target, resource_id
from tasks_core.events.actions.templates import TemplateContext, render_action
from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event

__all__ = ["ACTION_EXECUTED", "ACTION_FAILED", "execute_action", "template_context"]

ACTION_EXECUTED = "tasks-core.automation.action.executed"
ACTION_FAILED = "tasks-core.automation.action.failed"
_EVENT_IDS = uuid.UUID("8f3a4c1e-2b7d-4e59-9a0c-5d6e7f8a9b0c")  # namespace of uuid5 ids

log = logging.getLogger("tasks_core.automations")

_RUNNERS: dict[str, Callable[[Any, ActionContext], ActionResult]] = {
    "do-nothing": lambda action, ctx: ActionResult(action.type, ctx.action_index),
    "run-deployment": deployments.run_deployment,
    "pause-deployment": deployments.pause_or_resume,
    "resume-deployment": deployments.pause_or_resume,
    "pause-work-pool": resources.pause_or_resume_pool,
    "resume-work-pool": resources.pause_or_resume_pool,
    "pause-work-queue": resources.pause_or_resume_queue,
    "resume-work-queue": resources.pause_or_resume_queue,
    "cancel-flow-run": flow_runs.cancel_flow_run,
    "change-flow-run-state": flow_runs.change_flow_run_state,
    "pause-automation": resources.pause_or_resume_automation,
    "resume-automation": resources.pause_or_resume_automation,
    "send-notification": notify.send_notification,
    "call-webhook": webhook.call_webhook,
}


def execute_action(action: Action, context: ActionContext) -> ActionResult:
    """Render and run `action` for one firing; emit its executed or failed event.

    Returns:
        What it did (`ActionResult`; e.g. RunDeployment's ``detail["flow_run_id"]``).

    Raises:
        ActionFailed: the action did not do its work (the message says why); nothing else.
    """
    try:
        result = _run(action, context)
    except ActionFailed as exc:
        failure = exc
    except TemplateError as exc:
        failure = ActionFailed(f"{action.describe()}: template error: {exc}")
    except StoreUnavailable as exc:
        failure = ActionFailed(f"{action.describe()}: {exc}", retryable=True)
    except Exception as exc:  # an action's bug must not stop the engine
        log.exception("automation %r: action %d (%s) raised", context.automation.name,
                      context.action_index, action.type)
        failure = ActionFailed(f"{action.describe()}: {type(exc).__name__}: {exc}")
    else:
        _record(action, context, result=result)
        return result
    _record(action, context, error=str(failure))
    raise failure


def _run(action: Action, context: ActionContext) -> ActionResult:
    if type(action).templated:
        action = render_action(action, template_context(context))
    return _RUNNERS[action.type](action, context)


def template_context(context: ActionContext) -> TemplateContext:
    """What templates see for this execution (see `templates`): the event, automation and
    firing as JSON, and the flow run, deployment and work pool records the event names
    (None when it names none or they no longer exist)."""
    event = context.event
    return TemplateContext(
        event=event.model_dump(mode="json") if event else {},
        automation={"id": context.automation.id, "name": context.automation.name},
        firing=context.firing.model_dump(mode="json") if context.firing else {},
        flow_run=_named(event, "flow-run"), deployment=_named(event, "deployment"),
        work_pool=_named(event, "work-pool"))


def _named(event: Event | None, kind: Any) -> dict[str, Any] | None:
    if event is None:
        return None
    from tasks_core.process_runtime import get_runtime

    try:
        key = infer_target(event, kind, action="template")
    except ActionFailed:
        return None
    rt = get_runtime()
    try:
        if kind == "flow-run":
            record = rt.store.get(key)
            return record.model_dump(mode="json", exclude={"history"})
        if kind == "deployment":
            return rt.deployments.get(key).model_dump(mode="json")
        return rt.pools.get(key).model_dump(mode="json")
    except (NotFoundError, TasksCoreError):
        return None


def _record(action: Action, context: ActionContext, *, result: ActionResult | None = None,
            error: str | None = None) -> None:
    from tasks_core.events.emit import emit_event

    automation = context.automation
    event = context.event
    payload: dict[str, Any] = {
        "action_type": action.type, "action_index": context.action_index,
        "action": action.describe(), "idempotency_key": context.idempotency_key,
        "firing_id": context.firing.id if context.firing else None,
        "triggering_event": event.id if event else None}
    related: list[Mapping[str, str]] = [{RESOURCE_ID: resource_id("automation", automation.id),
                RESOURCE_ROLE: "automation", RESOURCE_NAME: automation.name}]
    if result is not None:
        payload.update(result.detail)
        if result.target:
            kind = result.target.split(".")[1]
            related.append({RESOURCE_ID: result.target, RESOURCE_ROLE: kind})
        if result.detail.get("flow_run_id") and action.type == "run-deployment":
            related.append({RESOURCE_ID: resource_id("flow-run", result.detail["flow_run_id"]),
                            RESOURCE_ROLE: "flow-run"})
    else:
        payload["error"] = error
    outcome = "executed" if error is None else "failed"
    try:
        emit_event(ACTION_EXECUTED if error is None else ACTION_FAILED,
                   resource={RESOURCE_ID: resource_id("automation", automation.id),
                             RESOURCE_NAME: automation.name,
                             "tasks-core.action.type": action.type,
                             "tasks-core.action.index": str(context.action_index)},
                   related=related, payload=payload, follows=event.id if event else None,
                   id=uuid.uuid5(_EVENT_IDS, f"{context.idempotency_key}:{outcome}"))
    except TasksCoreError as exc:  # the action's outcome stands; its record is what is lost
        log.error("automation %r: action %d %s, but its event could not be emitted: %s",
                  automation.name, context.action_index, outcome, exc)
