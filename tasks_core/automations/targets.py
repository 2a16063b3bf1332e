"""Checks of an automation's actions against the store, when it is saved.

Each action goes through `tasks_core.events.actions.check_action`: a target named by
``source="selected"`` must exist (a deployment by name, id or unique id start; a work pool;
another automation, by name or id; the automation itself may be named; a work queue's
pool), templates compile, and notification URLs are ones Apprise takes. Inferred targets
are found from the triggering event when the action runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tasks_core.automations.model import AutomationError, AutomationModel
from tasks_core.errors import NotFoundError, ValidationError
from tasks_core.events.actions.check import check_action

__all__ = ["check_targets"]


def check_targets(automation: AutomationModel,
                  find_automation: Callable[[str], Any]) -> None:
    """Refuse an automation whose actions cannot run as saved (see the module docstring).

    Args:
        automation: the automation being saved.
        find_automation: reads an automation by name or id, raising NotFoundError.

    Raises:
        AutomationError: naming the automation, the action (``actions.<i>``) and what is
            wrong, with the store's hint (close names).
    """

    def exists(key: str) -> bool:
        if key in (automation.name, automation.id):
            return True  # itself: it exists once saved
        try:
            find_automation(key)
        except NotFoundError:
            return False
        return True

    for index, action in enumerate(automation.actions):
        try:
            check_action(action, automation_exists=exists)
        except ValidationError as exc:
            raise AutomationError(f"automation {automation.name!r}: actions.{index}: {exc}"
                                  ) from None
