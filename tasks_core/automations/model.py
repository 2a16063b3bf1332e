"""The automation model: a trigger and the actions to take when it fires (pure data and
validation; `tasks_core.automations.crud.Automation` adds storing it).

Shape (JSON, as stored in ``p:automation:<id>`` and as `automation create --file` reads it)::

    {"id": "<uuid>", "name": "notify on failures", "description": "", "enabled": true,
     "tags": ["ops"], "trigger": {"type": "event", "expect": ["tasks-core.flow-run.Failed"],
     ...}, "actions": [{"type": "run-deployment", ...}, ...],
     "owner_deployment_id": "<deployment id>" | null,
     "created": "<ISO 8601>", "updated": "<ISO 8601>"}

``trigger`` is any trigger model or its JSON (`tasks_core.events.triggers.parse_trigger`:
Prefect's spellings are accepted and stored in tasks-core's; a ``Deployment*Trigger`` is
taken as its plain trigger). ``actions`` are action models or their JSON
(`tasks_core.events.actions.parse_action`); their templates are compiled here.

Refused with `AutomationError` (a `tasks_core.errors.ValidationError`) naming the field: an
empty name, every refusal of the trigger models (``trigger: within: must be >= 0 s``, ...),
no actions, every refusal of the action models (``actions: action 0: RunDeployment: ...``),
an invalid template, an unknown field. Targets that must exist (a deployment, a work pool)
are checked against the store when it is saved (`tasks_core.automations.targets`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tasks_core.errors import NotFoundError, ValidationError
from tasks_core.events.actions.models import Action, ActionTypes, parse_action
from tasks_core.events.actions.templates import compile_templates
from tasks_core.events.triggers import AnyTrigger, parse_trigger
from tasks_core.events.triggers.models import describe_error

__all__ = ["NAME_MAX_CHARS", "AutomationError", "AutomationModel", "AutomationNotFound"]

NAME_MAX_CHARS = 200
"""Longest automation name."""

_POSITIONAL = ("name", "trigger", "actions")


class AutomationError(ValidationError):
    """An automation that cannot be saved; the message names the field and what is wrong."""


class AutomationNotFound(NotFoundError):
    """No automation with that name, id or id prefix."""


def _now() -> datetime:
    return datetime.now(UTC)


class AutomationModel(BaseModel):
    """When `trigger` fires, take `actions`, in order (the data; `Automation` adds storing).

    ``Automation(name, trigger, actions, description="", enabled=True, tags=[])``; the
    first three may be positional.

    Attributes:
        id: a UUID string, set when built.
        name: unique among automations, 1 to `NAME_MAX_CHARS` characters, one line.
        trigger: an `EventTrigger`, `CompoundTrigger` or `SequenceTrigger`.
        actions: at least one action (`tasks_core.events.actions`), in order.
        description, enabled, tags: as named; a disabled automation never fires.
        owner_deployment_id: the deployment whose ``triggers`` made this automation (it is
            replaced when the deployment is deployed again, deleted with it); None when
            made by hand.
        created, updated: when it was stored first and last (UTC).

    Raises:
        AutomationError: naming the field, for any refusal listed in the module docstring.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    name: str
    description: str = ""
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    trigger: AnyTrigger
    actions: list[ActionTypes]
    owner_deployment_id: str | None = None
    created: datetime = Field(default_factory=_now)
    updated: datetime = Field(default_factory=_now)

    def __init__(self, *args: Any, **data: Any) -> None:
        if len(args) > len(_POSITIONAL):
            raise AutomationError(f"Automation takes at most {len(_POSITIONAL)} positional "
                                  f"arguments ({', '.join(_POSITIONAL)}), got {len(args)}")
        for field, value in zip(_POSITIONAL, args, strict=False):
            if field in data:
                raise AutomationError(f"Automation got {field!r} twice")
            data[field] = value
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise AutomationError(_describe(data, exc)) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """As pydantic's, raising `AutomationError` (e.g. for a stored automation's JSON)."""
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as exc:
            raise AutomationError(_describe(obj, exc)) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """As pydantic's, raising `AutomationError`."""
        try:
            return super().model_validate_json(json_data, **kwargs)
        except pydantic.ValidationError as exc:
            raise AutomationError(_describe(None, exc)) from None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        if len(value) > NAME_MAX_CHARS:
            raise ValueError(f"must be at most {NAME_MAX_CHARS} characters, got {len(value)}")
        if any(ch in value for ch in "\r\n\t"):
            raise ValueError("must be one line (no tabs or line breaks)")
        return value

    @field_validator("trigger", mode="before")
    @classmethod
    def _trigger(cls, value: Any) -> Any:
        as_trigger = getattr(value, "as_trigger", None)
        if callable(as_trigger):  # a Deployment*Trigger: its plain trigger
            return as_trigger()
        if isinstance(value, BaseModel):
            return value
        return parse_trigger(value)  # TriggerError is a ValueError: it names the field

    @field_validator("actions", mode="before")
    @classmethod
    def _actions(cls, value: Any) -> Any:
        if isinstance(value, dict | BaseModel):
            value = [value]  # one action may be given alone
        if not isinstance(value, list | tuple):
            raise ValueError(f"must be a list of actions, got {type(value).__name__}")
        if not value:
            raise ValueError("an automation needs at least one action, e.g. "
                             "{'type': 'do-nothing'}")
        parsed: list[Action] = []
        for index, data in enumerate(value):
            try:
                action = parse_action(data)
                compile_templates(action)  # an invalid template is refused when saved
            except ValidationError as exc:
                raise ValueError(f"action {index}: {exc}") from None
            parsed.append(action)
        return parsed

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return sorted({t.strip() for t in value if t.strip()})

    def spec(self) -> dict[str, Any]:
        """What it does, without its identity and times (to compare two automations)."""
        return self.model_dump(mode="json", exclude={"id", "created", "updated"})


def _describe(data: Any, exc: pydantic.ValidationError) -> str:
    name = data.get("name") if isinstance(data, dict) else None
    who = f"automation {name!r}" if isinstance(name, str) and name.strip() else "automation"
    text = describe_error(who, exc)
    # pydantic routes model_validate through __init__: its AutomationError comes back
    # wrapped, already naming the automation
    return text.replace(f"{who}: {who}: ", f"{who}: ", 1)
