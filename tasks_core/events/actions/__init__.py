"""Actions: what an automation does when its trigger fires, as a library the trigger
engine calls.

    models.py     the action models (Prefect's type names), `Action`, `parse_action`
    errors.py     ActionError (refused when saved), ActionFailed (failed when run)
    templates.py  Jinja2 in the sandbox: `compile_templates`, `render_action`, caps
    check.py      `check_action`: templates compile, named deployments and pools exist
    context.py    ActionContext (what an execution gets), ActionResult, AutomationRef
    targets.py    targets inferred from the triggering event
    execute.py    `execute_action`: render, run, emit action.executed / action.failed
    deployments.py, flow_runs.py, resources.py, notify.py, webhook.py: one kind each

The engine calls, per action of a firing: ``execute_action(action, ActionContext(...))``;
only `ActionFailed` comes out.

    from tasks_core.events.actions import RunDeployment, SendNotification
    RunDeployment(deployment_name="etl/daily", parameters={"n": "{{ event.payload.n }}"})
"""

from tasks_core.events.actions.check import check_action
from tasks_core.events.actions.context import (
    ActionContext,
    ActionResult,
    AutomationRef,
    SetAutomationEnabled,
)
from tasks_core.events.actions.errors import ActionError, ActionFailed
from tasks_core.events.actions.execute import (
    ACTION_EXECUTED,
    ACTION_FAILED,
    execute_action,
    template_context,
)
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
    "ACTION_EXECUTED",
    "ACTION_FAILED",
    "ACTION_TYPES",
    "Action",
    "ActionBase",
    "ActionContext",
    "ActionError",
    "ActionFailed",
    "ActionResult",
    "ActionTypes",
    "AutomationRef",
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
    "SetAutomationEnabled",
    "TemplateContext",
    "check_action",
    "compile_templates",
    "execute_action",
    "parse_action",
    "render_action",
    "render_text",
    "render_value",
    "template_context",
]
