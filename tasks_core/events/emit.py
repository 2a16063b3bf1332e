"""`emit_event`: custom events from user code, tasks, flows, workers, beat and the CLI.

    from tasks_core.events import emit_event      # was: from prefect.events import emit_event

    emit_event(event="acme.order.shipped",
               resource={"prefect.resource.id": "acme.order.42"},   # Prefect's spelling is fine
               payload={"items": 3})
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pydantic

from tasks_core.errors import EventError
from tasks_core.events.schema import Event, EventLimits, check_limits
from tasks_core.events.spelling import normalize_name, normalize_related, normalize_resource

__all__ = ["build_event", "emit_event"]


def build_event(
    event: str,
    resource: Mapping[str, str],
    payload: Mapping[str, Any] | None = None,
    related: list[Mapping[str, str]] | Mapping[str, str] | None = None,
    occurred: datetime | None = None,
    follows: Event | str | uuid.UUID | None = None,
    id: str | uuid.UUID | None = None,  # Prefect's parameter name
    *,
    limits: EventLimits | None = None,
) -> Event:
    """A validated `Event` in tasks-core's spelling, not written (see `emit_event`).

    Raises:
        EventError: a missing or bad field, or a limit exceeded (the message names it).
    """
    if not isinstance(resource, Mapping):
        raise EventError(f"event {event!r}: resource must be a dict of labels, "
                         f"got {type(resource).__name__}")
    if payload is not None and not isinstance(payload, Mapping):
        raise EventError(f"event {event!r}: payload must be a dict (a JSON object), "
                         f"got {type(payload).__name__}")
    fields: dict[str, Any] = {
        "event": normalize_name(event) if isinstance(event, str) else event,
        "resource": normalize_resource(resource),
        "related": normalize_related(_related_list(event, related)),
        "payload": dict(payload or {}),
    }
    if occurred is not None:
        fields["occurred"] = occurred
    if follows is not None:
        fields["follows"] = str(follows.id if isinstance(follows, Event) else follows)
    if id is not None:
        fields["id"] = str(id)
    try:
        built = Event.model_validate(fields)
    except pydantic.ValidationError as exc:
        raise EventError(f"invalid event {event!r}: {_first_error(exc)}") from None
    check_limits(built, limits or _limits())
    return built


def _related_list(event: object, related: object) -> list[Mapping[str, str]]:
    """`related` as a list of label dicts: one dict alone counts as one related resource
    (as the CLI's ``--related`` takes it).

    Raises:
        EventError: not a list of dicts (the bad item named by its index).
    """
    if related is None:
        return []
    if isinstance(related, Mapping):
        return [related]
    if not isinstance(related, list | tuple):
        raise EventError(f"event {event!r}: related must be a list of dicts of labels, "
                         f"got {type(related).__name__}")
    for i, item in enumerate(related):
        if not isinstance(item, Mapping):
            raise EventError(f"event {event!r}: related[{i}] must be a dict of labels, "
                             f"got {type(item).__name__}")
    return list(related)


def emit_event(
    event: str,
    resource: Mapping[str, str],
    payload: Mapping[str, Any] | None = None,
    related: list[Mapping[str, str]] | Mapping[str, str] | None = None,
    occurred: datetime | None = None,
    follows: Event | str | uuid.UUID | None = None,
    id: str | uuid.UUID | None = None,  # Prefect's parameter name
) -> Event:
    """Emit an event: it is buffered in this process and written to the event stream
    within ``event_flush_interval_ms`` (50 ms), and at the latest when the process exits.

    Args:
        event: its name, e.g. ``acme.order.shipped`` (at most ``event_name_max_chars``).
        resource: labels of the resource it is about, with ``tasks-core.resource.id`` (or
            Prefect's ``prefect.resource.id``).
        payload: JSON data (at most ``event_payload_max_bytes`` of JSON).
        related: other resources, each with an id and a ``tasks-core.resource.role`` (a
            list of label dicts; one dict alone is one related resource).
        occurred: when it happened (default now; naive times are UTC).
        follows: the event (or its id) known to come before this one.
        id: its id (default a new UUID); the stream stores one event per id, so emitting
            the same id again does nothing.

    Returns:
        The event as it will be stored (tasks-core's spelling; ``received`` unset).

    Raises:
        EventError: a bad field or a limit exceeded; nothing is written.
        StoreUnavailable: Redis has been away long enough to fill the buffer
            (``event_buffer_max``); the event was not taken.
    """
    from tasks_core.process_runtime import get_runtime  # the runtime's stores import this package

    built = build_event(event, resource, payload, related, occurred, follows, id,
                        limits=EventLimits.from_settings(get_runtime().settings))
    get_runtime().emitter.emit(built)
    return built


def _limits() -> EventLimits:
    from tasks_core.settings import get_settings

    return EventLimits.from_settings(get_settings())


def _first_error(exc: pydantic.ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "event"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"
