"""`check_action`: refuse, when an automation is saved, an action that could never run.

Structure is checked by the models themselves (`models`, no Redis); this adds what needs
the store or a library: every template compiles (`templates.compile_templates`), a
selected deployment and work pool exist (close names suggested; a work-queue action's
pool too: its queues need no setup), every notification URL is one Apprise can use, and a
selected automation exists when the caller can tell.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from tasks_core.errors import NotFoundError, TasksCoreError
from tasks_core.events.actions.errors import ActionError
from tasks_core.events.actions.models import (
    Action,
    AutomationAction,
    DeploymentAction,
    SendNotification,
    WorkPoolAction,
    WorkQueueAction,
)
from tasks_core.events.actions.notify import apprise_refusal
from tasks_core.events.actions.templates import compile_templates
from tasks_core.process_runtime import Runtime, get_runtime

__all__ = ["check_action"]


def check_action(action: Action, *, rt: Runtime | None = None,
                 automation_exists: Callable[[str], bool] | None = None) -> None:
    """Refuse an action that cannot run (see the module docstring).

    Args:
        action: a model from `parse_action` (structure already valid).
        rt: the runtime whose store is asked (default: this process's).
        automation_exists: ``name_or_id -> bool`` for Pause/ResumeAutomation with a
            selected automation (None: not checked; the automation store provides it).

    Raises:
        ActionError: naming the action and what is wrong, e.g. ``RunDeployment:
            deployment 'etl/dayly' not found (did you mean 'etl/daily'?)``.
    """
    compile_templates(action)
    name = type(action).__name__
    if isinstance(action, DeploymentAction) and action.source == "selected":
        _deployment_exists(name, str(action.deployment_name or action.deployment_id), rt)
    elif isinstance(action, WorkPoolAction) and action.source == "selected":
        _pool_exists(name, str(action.work_pool_name), rt)
    elif isinstance(action, WorkQueueAction) and action.source == "selected":
        _pool_exists(name, str(action.work_queue_id).partition(":")[0], rt)
    elif isinstance(action, SendNotification):
        for i, url in enumerate(action.to):
            problem = apprise_refusal(url)
            if problem is not None:
                raise ActionError(f"{name}: to[{i}]: {problem}")
    elif (isinstance(action, AutomationAction) and action.source == "selected"
            and automation_exists is not None):
        key = str(action.automation_name or action.automation_id)
        if not automation_exists(key):
            raise ActionError(f"{name}: automation {key!r} not found")


def _deployment_exists(name: str, key: str, rt: Runtime | None) -> None:
    try:
        (rt or get_runtime()).deployments.get(key)
    except (NotFoundError, TasksCoreError) as exc:
        raise ActionError(f"{name}: {exc}") from None


def _pool_exists(name: str, pool: str, rt: Runtime | None) -> None:
    store = (rt or get_runtime()).pools
    try:
        store.get(pool)
    except NotFoundError:
        close = difflib.get_close_matches(pool, store.names(), n=3, cutoff=0.5)
        hint = (f" (did you mean {', '.join(repr(c) for c in close)}?)" if close
                else f" (create it with `tasks-core work-pool create {pool}`)")
        raise ActionError(f"{name}: work pool {pool!r} not found{hint}") from None
