"""Action models: what an automation does when its trigger fires (pure data, no Redis).
Their base is `base.ActionBase`; the two that send something out, `SendNotification` and
`CallWebhook`, are in `outgoing` (and exported here too).

Shapes (JSON, as stored; discriminated by ``type``, Prefect's type names)::

    {"type": "do-nothing"}
    {"type": "run-deployment", "source": "selected" | "inferred",
     "deployment_name": "<flow>/<deployment>" | null, "deployment_id": "<id>" | null,
     "parameters": {...templates...} | null, "job_variables": {...} | null,
     "schedule_after": 0.0}
    {"type": "pause-deployment" | "resume-deployment", "source", "deployment_name",
     "deployment_id"}
    {"type": "pause-work-pool" | "resume-work-pool", "source", "work_pool_name"}
    {"type": "pause-work-queue" | "resume-work-queue", "source", "work_pool_name",
     "work_queue_name" | "work_queue_id": "<pool>:<queue>"}
    {"type": "cancel-flow-run", "source": "inferred" | "selected", "flow_run_id"}
    {"type": "change-flow-run-state", "source", "flow_run_id", "state": "FAILED",
     "name": "Failed" | null, "message": "<template>" | null}
    {"type": "pause-automation" | "resume-automation", "source", "automation_name",
     "automation_id"}
    {"type": "send-notification", "to": ["<Apprise URL>", ...], "subject": "<template>",
     "body": "<template>"}
    {"type": "call-webhook", "url": "http(s)://...", "method": "POST",
     "headers": {"<name>": "<template>"}, "payload": "<template>" | {...} | null,
     "timeout": 10.0}

Targets: ``source="selected"`` (the default, except for flow-run actions) names the target
by name or by id (exactly one); ``source="inferred"`` takes it from the triggering event
(its resource, else its related resources) and forbids naming one. Work pools are
identified by name (``work_pool_id`` is accepted as a synonym, as a pool's resource id is
``tasks-core.work-pool.<name>``). ``job_variables`` is accepted for Prefect compatibility
and ignored (runs have no job variables).

Templates (Jinja2, see `templates`): RunDeployment ``parameters`` (every string, nested),
SendNotification ``subject`` and ``body``, CallWebhook ``payload`` and header values,
ChangeFlowRunState ``message``. Their syntax is checked by `compile_templates` (and
`check_action`), not here.

Refused with `ActionError` naming the action and field: an unknown ``type``, an unknown
field, a selected target with no name and no id or with both, an inferred target with one,
a deployment name without ``/``, a work queue id not ``<pool>:<queue>`` or with a part
that is not a valid name (`tasks_core.pool_names`), a negative ``schedule_after``, a
webhook URL that is not http(s), an unknown HTTP method, a notification target that is not
a URL, an unknown state.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    Discriminator,
    Tag,
    field_serializer,
    field_validator,
    model_validator,
)

from tasks_core.events.actions.base import (
    ActionBase,
    Source,
    selected_or_inferred,
    target_text,
)
from tasks_core.events.actions.errors import ActionError
from tasks_core.events.actions.outgoing import CallWebhook, SendNotification
from tasks_core.pool_names import pool_name_error
from tasks_core.states import StateName, StateType

__all__ = [
    "ACTION_TYPES",
    "Action",
    "ActionBase",
    "ActionTypes",
    "AutomationAction",
    "CallWebhook",
    "CancelFlowRun",
    "ChangeFlowRunState",
    "DeploymentAction",
    "DoNothing",
    "FlowRunAction",
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
    "WorkPoolAction",
    "WorkQueueAction",
    "parse_action",
]


class DoNothing(ActionBase):
    """Do nothing (an automation that only records its firings)."""

    type: Literal["do-nothing"] = "do-nothing"


class DeploymentAction(ActionBase):
    """Base of actions on a deployment: named (``deployment_name="flow/deployment"``),
    by id, or ``source="inferred"`` from the event (``tasks-core.deployment.<id>``)."""

    source: Source = "selected"
    deployment_name: str | None = None
    deployment_id: str | None = None

    @field_validator("deployment_name")
    @classmethod
    def _full_name(cls, value: str | None) -> str | None:
        if value is not None and value.count("/") != 1:
            raise ValueError(f"must read 'flow-name/deployment-name', got {value!r}")
        return value

    @field_validator("deployment_id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return None if value is None else str(value)  # a UUID object is fine

    @model_validator(mode="after")
    def _target_given(self) -> Self:
        selected_or_inferred(type(self).__name__, self.source,
                              {"deployment_name": self.deployment_name,
                               "deployment_id": self.deployment_id}, "deployment")
        return self

    def target_text(self) -> str:
        """See `ActionBase.target_text`."""
        return target_text(self.source, {"name": self.deployment_name, "id": self.deployment_id})


class RunDeployment(DeploymentAction):
    """Create a flow run of a deployment.

    Args:
        parameters: merged over the deployment's defaults; every string is a template
            (a lone ``{{ expr }}`` keeps its JSON type). None: the defaults.
        job_variables: accepted for Prefect compatibility, ignored.
        schedule_after: seconds (or a timedelta) from the firing to the run's start, >= 0.
    """

    type: Literal["run-deployment"] = "run-deployment"
    templated: ClassVar[tuple[str, ...]] = ("parameters",)
    parameters: dict[str, Any] | None = None
    job_variables: dict[str, Any] | None = None
    schedule_after: timedelta = timedelta(0)

    @field_validator("schedule_after", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            raise ValueError("must be a number of seconds or a timedelta")
        return timedelta(seconds=value) if isinstance(value, int | float) else value

    @field_validator("schedule_after")
    @classmethod
    def _non_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError(f"must be >= 0 s, got {value.total_seconds():g} s")
        return value

    @field_serializer("schedule_after")
    def _as_seconds(self, value: timedelta) -> float:
        return value.total_seconds()


class PauseDeployment(DeploymentAction):
    """Pause a deployment's schedules (see `deployments.set_paused`)."""

    type: Literal["pause-deployment"] = "pause-deployment"


class ResumeDeployment(DeploymentAction):
    """Resume a deployment's schedules."""

    type: Literal["resume-deployment"] = "resume-deployment"


class WorkPoolAction(ActionBase):
    """Base of actions on a work pool: ``work_pool_name`` (``work_pool_id``: the same, a
    pool's id is its name), or ``source="inferred"`` (``tasks-core.work-pool.<name>``)."""

    source: Source = "selected"
    work_pool_name: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _id_is_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "work_pool_id" in data:
            data = dict(data)
            pool_id = data.pop("work_pool_id")
            if data.get("work_pool_name") not in (None, pool_id):
                raise ValueError("give work_pool_name or work_pool_id, not both")
            data["work_pool_name"] = None if pool_id is None else str(pool_id)
        return data

    @model_validator(mode="after")
    def _target_given(self) -> Self:
        selected_or_inferred(type(self).__name__, self.source,
                              {"work_pool_name": self.work_pool_name}, "work pool")
        return self

    def target_text(self) -> str:
        """See `ActionBase.target_text`."""
        return target_text(self.source, {"name": self.work_pool_name})


class PauseWorkPool(WorkPoolAction):
    """Pause a work pool (its flow runs wait, none is lost)."""

    type: Literal["pause-work-pool"] = "pause-work-pool"


class ResumeWorkPool(WorkPoolAction):
    """Resume a work pool (the waiting flow runs are sent again)."""

    type: Literal["resume-work-pool"] = "resume-work-pool"


class WorkQueueAction(ActionBase):
    """Base of actions on a work queue of a pool: ``work_pool_name`` and
    ``work_queue_name``, or ``work_queue_id="<pool>:<queue>"``, or ``source="inferred"``
    (``tasks-core.work-queue.<pool>:<queue>``)."""

    source: Source = "selected"
    work_queue_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _names_to_id(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not ({"work_pool_name", "work_queue_name"} & set(data)):
            return data
        data = dict(data)
        pool, queue = data.pop("work_pool_name", None), data.pop("work_queue_name", None)
        if data.get("work_queue_id") is not None:
            raise ValueError("give work_queue_id or work_pool_name and work_queue_name, "
                             "not both")
        if not pool or not queue:
            raise ValueError("a work queue is named by both work_pool_name and "
                             "work_queue_name (or work_queue_id='<pool>:<queue>')")
        data["work_queue_id"] = f"{pool}:{queue}"
        return data

    @field_validator("work_queue_id")
    @classmethod
    def _pool_and_queue(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.count(":") != 1 or "" in value.split(":"):
            raise ValueError(f"must read '<pool>:<queue>', got {value!r}")
        pool, queue = value.split(":")
        error = (pool_name_error(pool, what="work pool name")
                 or pool_name_error(queue, what="work queue name"))
        if error is not None:
            raise ValueError(error)
        return value

    @model_validator(mode="after")
    def _target_given(self) -> Self:
        selected_or_inferred(type(self).__name__, self.source,
                              {"work_queue_id": self.work_queue_id}, "work queue")
        return self

    def target_text(self) -> str:
        """See `ActionBase.target_text`."""
        return target_text(self.source, {"id": self.work_queue_id})


class PauseWorkQueue(WorkQueueAction):
    """Pause one work queue of a pool (its flow runs wait, none is lost; the pool's other
    queues go on; see `tasks_core.work_pools.pause_queue`)."""

    type: Literal["pause-work-queue"] = "pause-work-queue"


class ResumeWorkQueue(WorkQueueAction):
    """Resume a work queue (its waiting flow runs are sent again)."""

    type: Literal["resume-work-queue"] = "resume-work-queue"


class FlowRunAction(ActionBase):
    """Base of actions on a flow run: inferred from the event by default (its
    ``tasks-core.flow-run.<id>`` resource, else a related one), or ``flow_run_id``."""

    source: Source = "inferred"
    flow_run_id: str | None = None

    @field_validator("flow_run_id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @model_validator(mode="after")
    def _target_given(self) -> Self:
        selected_or_inferred(type(self).__name__, self.source,
                              {"flow_run_id": self.flow_run_id}, "flow run")
        return self

    def target_text(self) -> str:
        """See `ActionBase.target_text`."""
        return target_text(self.source, {"id": self.flow_run_id})


class CancelFlowRun(FlowRunAction):
    """Cancel a flow run (see `tasks_core.engine.cancel`)."""

    type: Literal["cancel-flow-run"] = "cancel-flow-run"


class ChangeFlowRunState(FlowRunAction):
    """Move a flow run to another state, by the store's checked transition.

    Args:
        state: the state type (Prefect's field: ``"FAILED"``, ``"CANCELLED"``, ...).
        name: the state name (``"TimedOut"``); default the type's main name.
        message: a template, recorded with the state.
    """

    type: Literal["change-flow-run-state"] = "change-flow-run-state"
    templated: ClassVar[tuple[str, ...]] = ("message",)
    state: StateType
    name: StateName | None = None
    message: str | None = None

    @field_validator("state", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _name_of_type(self) -> Self:
        from tasks_core.states import state_type

        if self.name is not None and state_type(self.name) != self.state:
            raise ValueError(f"state name {self.name.value!r} is of type "
                             f"{state_type(self.name).value}, not {self.state.value}")
        return self

    @property
    def state_name(self) -> StateName:
        """The name to move to: `name`, else the state type's own name."""
        return self.name or StateName(self.state.value.capitalize())


class AutomationAction(ActionBase):
    """Base of actions on an automation: ``automation_name`` or ``automation_id``, or
    ``source="inferred"`` (``tasks-core.automation.<id>`` in the event)."""

    source: Source = "selected"
    automation_name: str | None = None
    automation_id: str | None = None

    @field_validator("automation_id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @model_validator(mode="after")
    def _target_given(self) -> Self:
        selected_or_inferred(type(self).__name__, self.source,
                              {"automation_name": self.automation_name,
                               "automation_id": self.automation_id}, "automation")
        return self

    def target_text(self) -> str:
        """See `ActionBase.target_text`."""
        return target_text(self.source, {"name": self.automation_name, "id": self.automation_id})


class PauseAutomation(AutomationAction):
    """Pause (disable) an automation."""

    type: Literal["pause-automation"] = "pause-automation"


class ResumeAutomation(AutomationAction):
    """Resume (enable) an automation."""

    type: Literal["resume-automation"] = "resume-automation"


_CLASSES: tuple[type[ActionBase], ...] = (
    DoNothing, RunDeployment, PauseDeployment, ResumeDeployment, PauseWorkPool,
    ResumeWorkPool, PauseWorkQueue, ResumeWorkQueue, CancelFlowRun, ChangeFlowRunState,
    PauseAutomation, ResumeAutomation, SendNotification, CallWebhook)
ACTION_TYPES: dict[str, type[ActionBase]] = {
    c.model_fields["type"].default: c for c in _CLASSES}

Action = (DoNothing | RunDeployment | PauseDeployment | ResumeDeployment | PauseWorkPool
          | ResumeWorkPool | PauseWorkQueue | ResumeWorkQueue | CancelFlowRun
          | ChangeFlowRunState | PauseAutomation | ResumeAutomation | SendNotification
          | CallWebhook)


def _kind(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if isinstance(kind, str) else None


ActionTypes = Annotated[
    Annotated[DoNothing, Tag("do-nothing")]
    | Annotated[RunDeployment, Tag("run-deployment")]
    | Annotated[PauseDeployment, Tag("pause-deployment")]
    | Annotated[ResumeDeployment, Tag("resume-deployment")]
    | Annotated[PauseWorkPool, Tag("pause-work-pool")]
    | Annotated[ResumeWorkPool, Tag("resume-work-pool")]
    | Annotated[PauseWorkQueue, Tag("pause-work-queue")]
    | Annotated[ResumeWorkQueue, Tag("resume-work-queue")]
    | Annotated[CancelFlowRun, Tag("cancel-flow-run")]
    | Annotated[ChangeFlowRunState, Tag("change-flow-run-state")]
    | Annotated[PauseAutomation, Tag("pause-automation")]
    | Annotated[ResumeAutomation, Tag("resume-automation")]
    | Annotated[SendNotification, Tag("send-notification")]
    | Annotated[CallWebhook, Tag("call-webhook")],
    Discriminator(_kind, custom_error_type="action_type",
                  custom_error_message="an action's type must be one of "
                                       + ", ".join(repr(t) for t in ACTION_TYPES)),
]
"""The action union for pydantic fields (``actions: list[ActionTypes]`` in a model)."""


def parse_action(data: Any) -> Action:
    """An action of any type from JSON data (``{"type": "run-deployment", ...}``) or an
    action model (returned as it is).

    Raises:
        ActionError: no or an unknown ``type`` (the known ones listed), or a bad field of
            that type (named, as the constructors do).
    """
    if isinstance(data, ActionBase):
        return data  # type: ignore[return-value]
    if not isinstance(data, dict):
        raise ActionError(f"an action must be a JSON object with a 'type', "
                          f"got {type(data).__name__}")
    kind = data.get("type")
    cls = ACTION_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ActionError(f"unknown action type {kind!r}; one of "
                          f"{', '.join(repr(t) for t in ACTION_TYPES)}")
    return cls.model_validate(data)  # type: ignore[return-value]
