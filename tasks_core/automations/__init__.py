"""Automations: a trigger, and the actions to take when it fires.

    from tasks_core.automations import Automation
    from tasks_core.events import EventTrigger

    Automation(
        name="retry failed etl",
        trigger=EventTrigger(expect={"tasks-core.flow-run.Failed"},
                             match_related={"tasks-core.resource.id": "tasks-core.flow.etl"}),
        actions=[{"type": "run-deployment", "source": "selected",
                  "deployment_id": "<id>"}],
    ).create()

Modules: `model` (AutomationModel: fields, checks, errors), `crud` (Automation: the model
that stores itself; create, update, delete, read, list, pause/resume; change messages and
``tasks-core.automation.*`` events), `owned` (the automations a deployment's ``triggers``
make), `files` (reading automations from YAML or JSON files).
"""

from tasks_core.automations.crud import (
    Automation,
    create_automation,
    delete_automation,
    list_automations,
    read_automation,
    set_enabled,
    update_automation,
)
from tasks_core.automations.model import AutomationError, AutomationModel, AutomationNotFound

__all__ = ["Automation", "AutomationError", "AutomationModel", "AutomationNotFound",
           "create_automation", "delete_automation", "list_automations", "read_automation",
           "set_enabled", "update_automation"]
