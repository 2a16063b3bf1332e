"""The event model (see ARCHITECTURE.md, Events). Run-state events: `events.run_events`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

__all__ = ["RESOURCE_ID", "RESOURCE_NAME", "RESOURCE_ROLE", "Event", "RelatedResource",
           "Resource"]

RESOURCE_ID = "tasks-core.resource.id"
RESOURCE_ROLE = "tasks-core.resource.role"
RESOURCE_NAME = "tasks-core.resource.name"


class Resource(dict[str, str]):
    """Labels of a resource; must hold ``tasks-core.resource.id``."""


class RelatedResource(dict[str, str]):
    """A resource related to an event; holds an id and a ``tasks-core.resource.role``."""


class Event(BaseModel):
    """One event: what happened, to which resource, with what payload."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    occurred: datetime
    event: str = Field(min_length=1, max_length=1024)
    resource: dict[str, str]
    related: list[dict[str, str]] = Field(default_factory=list)
    payload: dict[str, Any] = Field(default_factory=dict)
    received: datetime | None = None
    follows: str | None = None

    @field_validator("resource")
    @classmethod
    def _resource_has_id(cls, value: dict[str, str]) -> dict[str, str]:
        if RESOURCE_ID not in value:
            raise ValueError(f"resource needs a {RESOURCE_ID!r} label, got {sorted(value)}")
        return value

    @property
    def resource_id(self) -> str:
        """The id label of the event's resource."""
        return self.resource[RESOURCE_ID]
