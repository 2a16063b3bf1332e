"""The event model (see ARCHITECTURE.md, Events) and builders for run-state events.

Run-state events are built as JSON text on the hot path (no model validation per transition);
the Lua transition script completes them with `follows` and the state payload.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

__all__ = ["Event", "RelatedResource", "Resource", "run_event_head", "run_resource_id"]

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


def run_resource_id(kind: str, run_id: str) -> str:
    """``tasks-core.task-run.<id>`` or ``tasks-core.flow-run.<id>``."""
    return f"tasks-core.{kind}-run.{run_id}"


def run_event_head(
    *,
    event_id: str,
    kind: str,
    run_id: str,
    run_name: str,
    state: str,
    state_type: str,
    occurred: datetime,
    related: list[dict[str, str]],
) -> str:
    """The JSON of a run-state event, without its closing brace, `follows` and `payload`."""
    head = {
        "id": event_id,
        "occurred": occurred.isoformat(),
        "event": f"tasks-core.{kind}-run.{state}",
        "resource": {
            RESOURCE_ID: run_resource_id(kind, run_id),
            RESOURCE_NAME: run_name,
            "tasks-core.state-name": state,
            "tasks-core.state-type": state_type,
        },
        "related": related,
        "received": occurred.isoformat(),
    }
    return json.dumps(head, separators=(",", ":"))[:-1]


def run_related(
    *, task_name: str, kind: str, parent_flow_run_id: str | None, tags: list[str]
) -> list[dict[str, str]]:
    """Related resources of a run event: its task or flow, parent flow run and tags."""
    related = [{RESOURCE_ID: f"tasks-core.{kind}.{task_name}", RESOURCE_ROLE: kind}]
    if parent_flow_run_id:
        related.append(
            {RESOURCE_ID: run_resource_id("flow", parent_flow_run_id), RESOURCE_ROLE: "flow-run"}
        )
    related.extend({RESOURCE_ID: f"tasks-core.tag.{tag}", RESOURCE_ROLE: "tag"} for tag in tags)
    return related
