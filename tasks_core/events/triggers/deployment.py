"""Deployment triggers: a plain trigger plus what the automation that runs the deployment
needs (``name``, ``description``, ``enabled``, ``parameters``, ``schedule_after``).

`.deploy(triggers=[...])` turns each into an automation owned by the deployment
(`tasks_core.automations.owned`). `as_trigger()` gives the plain trigger back. Extra JSON
fields (beside the plain trigger's)::

    {"name": "Upstream Flow - Pipeline" | null, "description": "", "enabled": true,
     "parameters": {"ticker": "{{ event.payload.ticker }}"} | null, "schedule_after": 0.0}

``parameters`` None means the deployment's own defaults; ``schedule_after`` is seconds, a
timedelta or an ISO-8601 duration, >= 0.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, field_serializer, field_validator

from tasks_core.events.triggers.models import (
    CompoundTrigger,
    EventTrigger,
    SequenceTrigger,
    Trigger,
)

__all__ = ["DeploymentCompoundTrigger", "DeploymentEventTrigger", "DeploymentSequenceTrigger",
           "DeploymentTriggerTypes"]


class _DeploymentFields(BaseModel):
    name: str | None = None
    description: str = ""
    enabled: bool = True
    parameters: dict[str, Any] | None = None
    schedule_after: timedelta = timedelta(0)

    @field_validator("schedule_after", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must be a number of seconds or a timedelta, not None")
        return timedelta(seconds=value) if isinstance(value, int | float) else value

    @field_validator("schedule_after")
    @classmethod
    def _non_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError(f"must be >= 0 s, got {value.total_seconds():g} s")
        return value

    @field_serializer("schedule_after")
    def _schedule_after_seconds(self, value: timedelta) -> float:
        return value.total_seconds()


_OWN = frozenset(_DeploymentFields.model_fields)


def _plain(trigger: Trigger, kind: type[Trigger]) -> Any:
    fields = {k: getattr(trigger, k) for k in type(trigger).model_fields if k not in _OWN}
    return kind.model_validate(fields)


class DeploymentEventTrigger(EventTrigger, _DeploymentFields):
    """An `EventTrigger` that runs its deployment when it fires."""

    def as_trigger(self) -> EventTrigger:
        """The plain trigger, without the deployment fields."""
        result: EventTrigger = _plain(self, EventTrigger)
        return result


class DeploymentCompoundTrigger(CompoundTrigger, _DeploymentFields):
    """A `CompoundTrigger` that runs its deployment when it fires."""

    def as_trigger(self) -> CompoundTrigger:
        """The plain trigger, without the deployment fields."""
        result: CompoundTrigger = _plain(self, CompoundTrigger)
        return result


class DeploymentSequenceTrigger(SequenceTrigger, _DeploymentFields):
    """A `SequenceTrigger` that runs its deployment when it fires."""

    def as_trigger(self) -> SequenceTrigger:
        """The plain trigger, without the deployment fields."""
        result: SequenceTrigger = _plain(self, SequenceTrigger)
        return result


DeploymentTriggerTypes = DeploymentEventTrigger | DeploymentCompoundTrigger | \
    DeploymentSequenceTrigger
