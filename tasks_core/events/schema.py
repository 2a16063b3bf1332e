"""The event model (see ARCHITECTURE.md, Events) and its limits.

Run-state events: `events.run_events`. Shape (JSON, one entry of the ``p:events`` stream)::

    {"id": "<uuid>", "occurred": "<ISO 8601, UTC>", "event": "acme.order.shipped",
     "resource": {"tasks-core.resource.id": "acme.order.42", ...labels},
     "related": [{"tasks-core.resource.id": "...", "tasks-core.resource.role": "...", ...}],
     "payload": {...}, "received": "<ISO 8601>" | null, "follows": "<event id>" | null}

`Event` checks the shape; `check_limits` the sizes (settings ``event_name_max_chars``,
``event_labels_max``, ``event_related_max``, ``event_payload_max_bytes``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticSerializationError, to_json

from tasks_core.errors import EventError

if TYPE_CHECKING:
    from tasks_core.settings import Settings

__all__ = ["RESOURCE_ID", "RESOURCE_NAME", "RESOURCE_ROLE", "Event", "EventLimits",
           "RelatedResource", "Resource", "check_limits"]

RESOURCE_ID = "tasks-core.resource.id"
RESOURCE_ROLE = "tasks-core.resource.role"
RESOURCE_NAME = "tasks-core.resource.name"


class Resource(dict[str, str]):
    """Labels of a resource; must hold ``tasks-core.resource.id``."""


class RelatedResource(dict[str, str]):
    """A resource related to an event; holds an id and a ``tasks-core.resource.role``."""


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """One event: what happened (`event`), to which resource, with what payload.

    Attributes:
        id: unique id (a UUID string by default); the stream keeps one event per id.
        occurred: when it happened (timezone-aware; default now, UTC).
        event: its name, e.g. ``tasks-core.flow-run.Completed`` or ``acme.order.shipped``.
        resource: labels of the resource it is about, with a non-empty
            ``tasks-core.resource.id``.
        related: other resources, each with ``tasks-core.resource.id`` and
            ``tasks-core.resource.role``.
        payload: open JSON data.
        received: when the stream took it (set when it is written).
        follows: the id of an event known to come before it.
    """

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1)
    occurred: datetime = Field(default_factory=_now)
    event: str = Field(min_length=1)
    resource: dict[str, str]
    related: list[dict[str, str]] = Field(default_factory=list)
    payload: dict[str, Any] = Field(default_factory=dict)
    received: datetime | None = None
    follows: str | None = None

    @field_validator("resource")
    @classmethod
    def _resource_has_id(cls, value: dict[str, str]) -> dict[str, str]:
        if not value.get(RESOURCE_ID):
            raise ValueError(f"resource needs a non-empty {RESOURCE_ID!r} label, "
                             f"got {sorted(value)}")
        return value

    @field_validator("related")
    @classmethod
    def _related_have_id_and_role(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for i, labels in enumerate(value):
            missing = [k for k in (RESOURCE_ID, RESOURCE_ROLE) if not labels.get(k)]
            if missing:
                raise ValueError(f"related resource {i} needs non-empty "
                                 f"{' and '.join(repr(k) for k in missing)}, "
                                 f"got {sorted(labels)}")
        return value

    @field_validator("occurred", "received")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # naive times are taken as UTC
        return value

    @property
    def resource_id(self) -> str:
        """The id label of the event's resource."""
        return self.resource[RESOURCE_ID]

    def related_ids(self) -> list[str]:
        """The ids of the related resources, in order."""
        return [labels[RESOURCE_ID] for labels in self.related]


@dataclass(frozen=True)
class EventLimits:
    """Size limits of one event (from settings, see `from_settings`)."""

    name_max_chars: int = 1024
    labels_max: int = 500
    related_max: int = 100
    payload_max_bytes: int = 256 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> EventLimits:
        """The limits configured in `settings`."""
        return cls(name_max_chars=settings.event_name_max_chars,
                   labels_max=settings.event_labels_max,
                   related_max=settings.event_related_max,
                   payload_max_bytes=settings.event_payload_max_bytes)


def check_limits(event: Event, limits: EventLimits) -> None:
    """Refuse an event over a limit.

    Raises:
        EventError: naming the limit's setting, the limit and the event's value.
    """
    name = event.event
    if len(name) > limits.name_max_chars:
        raise EventError(f"event name {name[:40]!r}... is {len(name)} characters, over the "
                         f"limit of {limits.name_max_chars} (event_name_max_chars)")
    for where, labels in [("resource", event.resource),
                          *((f"related resource {i}", r) for i, r in enumerate(event.related))]:
        if len(labels) > limits.labels_max:
            raise EventError(f"event {name!r}: {where} has {len(labels)} labels, over the "
                             f"limit of {limits.labels_max} (event_labels_max)")
    if len(event.related) > limits.related_max:
        raise EventError(f"event {name!r} has {len(event.related)} related resources, over "
                         f"the limit of {limits.related_max} (event_related_max)")
    try:
        size = len(to_json(event.payload))  # what is stored: pydantic's JSON of it
    except (PydanticSerializationError, ValueError, RecursionError) as exc:
        raise EventError(f"event {name!r}: payload cannot be written as JSON: {exc}") from None
    if size > limits.payload_max_bytes:
        raise EventError(f"event {name!r}: payload is {size} bytes of JSON, over the limit "
                         f"of {limits.payload_max_bytes} (event_payload_max_bytes)")
