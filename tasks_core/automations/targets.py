"""Checks of an automation's action targets against the store, when it is saved.

An action that names its target (``source="selected"``) must name one that exists: a
deployment (``deployment_name`` or ``deployment_id``, or a unique start of the id), a work
pool (``work_pool_name``; a work queue's pool, from ``work_queue_id``), another automation
(``automation_name`` / ``automation_id``; the automation itself may be named). Inferred
targets are found from the triggering event when the action runs, so they are not checked
here. Template syntax is checked by the model (`compile_templates`), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tasks_core.automations.model import AutomationError, AutomationModel
from tasks_core.errors import NotFoundError, ValidationError
from tasks_core.events.actions import ActionBase
from tasks_core.events.actions.models import (
    AutomationAction,
    DeploymentAction,
    WorkPoolAction,
    WorkQueueAction,
)

if TYPE_CHECKING:
    from tasks_core.runtime import Runtime

__all__ = ["check_targets"]


def _lookup(rt: Runtime, automation: AutomationModel, action: ActionBase,
            find_automation: Callable[[str], Any]) -> Callable[[], Any] | None:
    """The store look-up that finds the action's target, or None (nothing to check)."""
    if getattr(action, "source", "selected") != "selected":
        return None
    if isinstance(action, DeploymentAction):
        name = action.deployment_name or action.deployment_id or ""
        return lambda: rt.deployments.get(name)
    if isinstance(action, WorkPoolAction):
        pool = action.work_pool_name or ""
        return lambda: rt.pools.get(pool)
    if isinstance(action, WorkQueueAction):
        pool = (action.work_queue_id or "").partition(":")[0]
        return lambda: rt.pools.get(pool)
    if isinstance(action, AutomationAction):
        key = action.automation_name or action.automation_id or ""
        if key in (automation.name, automation.id):
            return None  # itself: it exists once saved
        return lambda: find_automation(key)
    return None


def check_targets(automation: AutomationModel,
                  find_automation: Callable[[str], Any]) -> None:
    """Refuse an automation whose actions name a target that does not exist
    (`find_automation`: reads an automation by name or id, raising NotFoundError).

    Raises:
        AutomationError: naming the automation, the action (position and what it does)
            and the missing target, with the store's hint (close names).
    """
    from tasks_core.runtime import get_runtime

    rt = get_runtime()
    for index, action in enumerate(automation.actions):
        lookup = _lookup(rt, automation, action, find_automation)
        if lookup is None:
            continue
        try:
            lookup()
        except (NotFoundError, ValidationError) as exc:
            raise AutomationError(f"automation {automation.name!r}: actions.{index} "
                                  f"({action.describe()}): {exc}") from None
