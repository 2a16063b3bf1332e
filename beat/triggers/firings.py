"""Executing a firing: loop check, the triggered event, then each action once.

For each action of a firing the engine claims ``<automation id>:<firing id>:<index>`` with
SET NX before running it and records the outcome ("done" / "failed: ...") after, so a
firing executed again (the engine died before it forgot the pending firing) runs no action
twice. A claim found "started" (the engine died while the action ran) is run again only for
RunDeployment, whose run is created once per idempotency key (the same string) anyway; any
other action is then given up rather than risk doing it twice (at most once). An action
that fails because Redis is away (`ActionFailed.retryable`) frees its claim and leaves the
firing pending: the engine tries again.

For `/metrics`, a firing whose actions start counts once in p:metrics:firings and an action
that failed for good once in p:metrics:action-failures (a firing executed again after an
engine crash may count twice; a loop-stopped one does not count).

Events (ids derived from the automation and firing, so a repeat writes none):

    tasks-core.automation.triggered     resource: the automation; related: the triggering
                                        event (role "triggering-event"); payload:
                                        {"firing_id", "triggering_event", "event_ids",
                                         "labels", "fired_at", "depth", "chain"}
    tasks-core.automation.loop-stopped  as above, when the chain is deeper than
                                        ``automation_max_chain_depth``: no action runs
    tasks-core.automation.resolved      a Proactive event trigger that fired saw its
                                        expected event again (for that ``for_each``
                                        bucket); related: that event (role
                                        "resolving-event"); payload: {"firing_id",
                                        "resolving_event", "labels"}; no action runs
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from beat.triggers.chains import chain_of
from tasks_core.automations.model import AutomationModel
from tasks_core.errors import TasksCoreError
from tasks_core.events.actions import ActionFailed, execute_action
from tasks_core.events.actions.context import ActionContext, AutomationRef
from tasks_core.events.emit import emit_event
from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event
from tasks_core.events.triggers import EventTrigger, Firing
from tasks_core.process_runtime import Runtime

__all__ = ["LOOP_STOPPED", "RESOLVED", "TRIGGERED", "Retry", "emit_resolved",
           "execute_firing"]

log = logging.getLogger("tasks_core.beat.triggers")

TRIGGERED = "tasks-core.automation.triggered"
LOOP_STOPPED = "tasks-core.automation.loop-stopped"
RESOLVED = "tasks-core.automation.resolved"
_IDS = uuid.UUID("5b1f0c8e-7d2a-4c3b-9e6f-1a2b3c4d5e6f")


class Retry(Exception):
    """The firing could not finish now (Redis away); keep it pending and try again."""


def _set_enabled(name_or_id: str, enabled: bool) -> object:
    from tasks_core.automations import set_enabled

    return set_enabled(name_or_id, enabled)


def _automation_resource(automation: AutomationModel) -> dict[str, str]:
    return {RESOURCE_ID: f"tasks-core.automation.{automation.id}",
            RESOURCE_NAME: automation.name}


def _emit(rt: Runtime, name: str, automation: AutomationModel, firing: Firing,
          payload: dict[str, Any]) -> None:
    event = firing.event
    related: list[Mapping[str, str]] = [
        {RESOURCE_ID: f"tasks-core.event.{event.id}", RESOURCE_ROLE: "triggering-event",
         RESOURCE_NAME: event.event}] if event else []
    try:
        emit_event(name, _automation_resource(automation), payload=payload, related=related,
                   follows=event.id if event else None,
                   id=uuid.uuid5(_IDS, f"{automation.id}:{firing.id}:{name}"))
    except TasksCoreError as exc:
        log.error("automation %r: %s not emitted: %s", automation.name, name, exc)


def execute_firing(rt: Runtime, automation: AutomationModel, firing: Firing) -> None:
    """Run the firing's actions, each at most once (see the module docstring).

    Raises:
        Retry: an action failed because Redis is away; call again later.
    """
    ttl = rt.settings.run_ttl_seconds
    chain = chain_of(rt, automation.id, automation.name, firing)
    event = firing.event
    payload: dict[str, Any] = {
        "firing_id": firing.id, "triggering_event": event.id if event else None,
        "event_ids": firing.event_ids, "labels": firing.labels,
        "fired_at": firing.fired_at.isoformat(), "depth": len(chain), "chain": chain}
    limit = rt.settings.automation_max_chain_depth
    if len(chain) > limit:
        payload["max_chain_depth"] = limit
        log.warning("automation %r: loop stopped (chain of %d firings > %d): %s",
                    automation.name, len(chain), limit,
                    " -> ".join(f"{c['automation']}@{c['event_id']}" for c in chain))
        _emit(rt, LOOP_STOPPED, automation, firing, payload)
        rt.engine.save_loop_stop(automation.id, payload, ttl)
        return
    rt.engine.save_firing(f"{automation.id}:{firing.id}", {"chain": chain}, ttl)
    _emit(rt, TRIGGERED, automation, firing, payload)
    rt.engine.count_firing(automation.id)
    ref = AutomationRef(automation.id, automation.name)
    for index, action in enumerate(automation.actions):
        key = f"{automation.id}:{firing.id}:{index}"
        held = rt.engine.claim_action(key, ttl)
        if held is not None and not (held == "started" and action.type == "run-deployment"):
            continue  # done, failed, or possibly half-done: never twice
        context = ActionContext(automation=ref, idempotency_key=key, event=event,
                                firing=firing, action_index=index,
                                set_automation_enabled=_set_enabled)
        try:
            execute_action(action, context)
        except ActionFailed as exc:
            if exc.retryable:
                rt.engine.release_action(key)
                raise Retry(str(exc)) from exc
            log.warning("automation %r: action %d failed: %s", automation.name, index, exc)
            rt.engine.finish_action(key, f"failed: {exc}", ttl)
            rt.engine.count_action_failure(automation.id, action.type)
            continue
        rt.engine.finish_action(key, "done", ttl)


def emit_resolved(automation: AutomationModel, firing_id: str, event: Event) -> None:
    """Say that `event` resolved the Proactive firing `firing_id` (once per firing)."""
    trigger = automation.trigger
    labels: dict[str, str] = {}
    if isinstance(trigger, EventTrigger):
        matcher = trigger.matcher
        labels = dict(zip(matcher.for_each, matcher.bucket_key(event), strict=True))
    try:
        emit_event(RESOLVED, _automation_resource(automation),
                   payload={"firing_id": firing_id, "resolving_event": event.id,
                            "labels": labels},
                   related=[{RESOURCE_ID: f"tasks-core.event.{event.id}",
                             RESOURCE_ROLE: "resolving-event", RESOURCE_NAME: event.event}],
                   follows=event.id,
                   id=uuid.uuid5(_IDS, f"{automation.id}:{firing_id}:{RESOLVED}"))
    except TasksCoreError as exc:
        log.error("automation %r: %s not emitted: %s", automation.name, RESOLVED, exc)
