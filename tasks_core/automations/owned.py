"""Automations a deployment owns: made from its ``triggers`` when it is deployed.

`.deploy(triggers=[...])`, `.to_deployment(triggers=...)` / `serve`, and the deployments
file's ``triggers:`` entries each give a trigger: a ``Deployment*Trigger`` (its ``name``,
``description``, ``enabled``, ``parameters``, ``schedule_after``), a plain trigger, or
either as JSON (Prefect's spellings accepted). The deployment record keeps them as JSON
(`trigger_json`); each becomes one automation (`plan_owned`)::

    name     the trigger's name, else "<flow>/<deployment> trigger <N>" (N from 1)
    trigger  trigger.as_trigger()
    enabled  / description from the trigger
    actions  [{"type": "run-deployment", "source": "selected", "deployment_id": <id>,
               "parameters": trigger.parameters, "schedule_after": <seconds>}]
    owner_deployment_id  the deployment's id

Deploying again replaces the owned automations (`replace_owned`: kept as they are when
nothing changed, else the old deleted and the new created); deleting the deployment
deletes them (`delete_owned`). A name held by an automation the deployment does not own
is refused before anything is saved (`check_owned`).
"""

from __future__ import annotations

import json
from typing import Any

from tasks_core.automations.crud import Automation, create_automation, delete_automation
from tasks_core.automations.model import AutomationError
from tasks_core.deployment_models import Deployment
from tasks_core.events.actions.errors import ActionError
from tasks_core.events.actions.models import RunDeployment
from tasks_core.events.triggers import (
    DeploymentCompoundTrigger,
    DeploymentEventTrigger,
    DeploymentSequenceTrigger,
    TriggerError,
)
from tasks_core.events.triggers.deployment import DeploymentTriggerTypes

__all__ = ["check_owned", "delete_owned", "deployment_trigger", "owned_automations",
           "plan_owned", "replace_owned", "run_deployment_action", "trigger_json"]

_KINDS: dict[str, Any] = {"event": DeploymentEventTrigger,
                          "compound": DeploymentCompoundTrigger,
                          "sequence": DeploymentSequenceTrigger}


def _kind(data: dict[str, Any]) -> str:
    """Prefect's rule: explicit type; triggers + require; triggers; else event."""
    explicit = data.get("type")
    if explicit:
        return str(explicit)
    if "triggers" in data:
        return "compound" if "require" in data else "sequence"
    return "event"


def deployment_trigger(value: Any) -> DeploymentTriggerTypes:
    """`value` as a ``Deployment*Trigger``: one already, a plain trigger (deployment fields
    at their defaults), or JSON.

    Raises:
        TriggerError: naming the field; an unknown ``type``.
    """
    if isinstance(value, DeploymentEventTrigger | DeploymentCompoundTrigger
                  | DeploymentSequenceTrigger):
        return value
    data = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
    if not isinstance(data, dict):
        raise TriggerError(f"a trigger must be a trigger model or a JSON object, got "
                           f"{type(value).__name__}")
    kind = _kind(data)
    if kind not in _KINDS:
        raise TriggerError(f"type: a trigger's type must be 'event', 'compound' or "
                           f"'sequence', got {kind!r}")
    result: DeploymentTriggerTypes = _KINDS[kind].model_validate(data)
    return result


def trigger_json(value: Any) -> dict[str, Any]:
    """A deployment trigger as the deployment record keeps it (validated JSON)."""
    return deployment_trigger(value).model_dump(mode="json")


def run_deployment_action(deployment_id: str, trigger: DeploymentTriggerTypes
                          ) -> RunDeployment:
    """The action of an owned automation: run this deployment, with the trigger's
    parameters (None: the deployment's defaults) after ``schedule_after``."""
    return RunDeployment(source="selected", deployment_id=deployment_id,
                         parameters=trigger.parameters, schedule_after=trigger.schedule_after)


def plan_owned(deployment: Deployment) -> list[Automation]:
    """The automations `deployment`'s triggers make (not stored).

    Raises:
        AutomationError: a trigger is refused (the message names it by position).
    """
    planned = []
    for number, data in enumerate(deployment.triggers, start=1):
        try:
            trigger = deployment_trigger(data)
            planned.append(Automation(
                name=trigger.name or f"{deployment.full_name} trigger {number}",
                description=trigger.description, enabled=trigger.enabled,
                trigger=trigger.as_trigger(),
                actions=[run_deployment_action(deployment.id, trigger)],
                owner_deployment_id=deployment.id))
        except (TriggerError, ActionError, AutomationError) as exc:
            raise AutomationError(f"deployment {deployment.full_name!r}, trigger {number}: "
                                  f"{exc}") from None
    names = [a.name for a in planned]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise AutomationError(f"deployment {deployment.full_name!r}: two triggers make "
                              f"automations named {twice[0]!r}; give them distinct names")
    return planned


def owned_automations(deployment_id: str) -> list[Automation]:
    """The stored automations `deployment_id` owns, by name."""
    from tasks_core.process_runtime import get_runtime

    store = get_runtime().automations
    found = [Automation.model_validate_json(t) for t in store.get_many(store.owned(deployment_id))]
    return sorted(found, key=lambda a: a.name)


def check_owned(deployment_id: str, planned: list[Automation]) -> None:
    """Refuse when a planned automation's name is held by one the deployment does not own.

    Raises:
        AutomationError: naming the automation and its holder.
    """
    from tasks_core.process_runtime import get_runtime

    store = get_runtime().automations
    mine = set(store.owned(deployment_id))
    for automation in planned:
        holder = store.id_of(automation.name)
        if holder is not None and holder not in mine:
            raise AutomationError(f"automation name {automation.name!r} is taken (by "
                                  f"automation {holder}, not made by this deployment); "
                                  "give the trigger another name")


def replace_owned(deployment_id: str, planned: list[Automation]) -> list[Automation]:
    """Make the stored automations of `deployment_id` the `planned` ones; what is stored.

    When the specs are the same (in any order, ``enabled`` included) the stored ones are kept
    as they are (same ids, no events); otherwise the old are deleted, then the new created,
    so a redeploy also sets ``enabled`` back to what the triggers say.
    """
    existing = owned_automations(deployment_id)
    if sorted(_key(a) for a in existing) == sorted(_key(a) for a in planned):
        return existing
    for automation in existing:
        delete_automation(automation.id)
    # the action runs this deployment, by id: built here, saved just before
    return [create_automation(a, check=False) for a in planned]


def _key(automation: Automation) -> str:
    return json.dumps(automation.spec(), sort_keys=True)


def delete_owned(deployment_id: str) -> int:
    """Delete every automation `deployment_id` owns; how many there were."""
    from tasks_core.process_runtime import get_runtime

    ids = get_runtime().automations.owned(deployment_id)
    return sum(delete_automation(i) for i in ids)
