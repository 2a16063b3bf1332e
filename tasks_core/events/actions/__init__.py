"""Actions: what an automation does when its trigger fires, as a library the trigger
engine calls.

    models.py     the action models (Prefect's type names), `Action`, `parse_action`
    errors.py     ActionError (refused when saved), ActionFailed (failed when run)
    templates.py  Jinja2 in the sandbox: `compile_templates`, `render_action`, caps

    from tasks_core.events.actions import RunDeployment, SendNotification
    RunDeployment(deployment_name="etl/daily", parameters={"n": "{{ event.payload.n }}"})
"""

from tasks_core.events.actions.errors import ActionError, ActionFailed
from tasks_core.events.actions.models import (
    ACTION_TYPES,
    Action,
    ActionBase,
    ActionTypes,
    CallWebhook,
    CancelFlowRun,
    ChangeFlowRunState,
    DoNothing,
    PauseAutomation,
    PauseDeployment,
    PauseWorkPool,
    PauseWorkQueue,
    ResumeAutomation,
    ResumeDeployment,
    ResumeWorkPool,
    ResumeWorkQueue,
    RunDeployment,
    SendNotification,
    parse_action,
)
from tasks_core.events.actions.templates import (
    TemplateContext,
    compile_templates,
    render_action,
    render_text,
    render_value,
)

__all__ = [
    "ACTION_TYPES",
    "Action",
    "ActionBase",
    "ActionError",
    "ActionFailed",
    "ActionTypes",
    "CallWebhook",
    "CancelFlowRun",
    "ChangeFlowRunState",
    "DoNothing",
    "PauseAutomation",
    "PauseDeployment",
    "PauseWorkPool",
    "PauseWorkQueue",
    "ResumeAutomation",
    "ResumeDeployment",
    "ResumeWorkPool",
    "ResumeWorkQueue",
    "RunDeployment",
    "SendNotification",
    "TemplateContext",
    "compile_templates",
    "parse_action",
    "render_action",
    "render_text",
    "render_value",
]
