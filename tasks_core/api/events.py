"""`/api/events`: list events (the CLI's filters, newest first), emit one, follow them live
as server-sent events.

The feed is `tasks_core.events.feed`'s, as `tasks-core events ls` / `stream` read it: globs
on the event name (repeatable, any may match), the resource id and a related id, in either
spelling (``prefect.flow-run.*``); ``since`` / ``until`` select by when the stream received
an event, each a duration back from now (``30s``, ``15m``, ``1h``, ``2d``, ``1w``) or an ISO
time (UTC when it has no offset).

``POST /api/events`` takes the fields `emit_event` takes and writes the event straight to
the stream (not through the buffered client): the 202 is sent only once it is stored, and a
Redis outage is a 503 with nothing written. An id already stored is not stored again (the
reply is the same 202).

``GET /api/events/stream`` is ``text/event-stream``: a ``: connected`` comment, then for each
event passing the filters ``id: <stream entry id>`` and ``data: <event JSON>`` lines, and a
``: keep-alive`` comment after ``api_stream_heartbeat_seconds`` (15 s) without one. A
reconnecting client's ``Last-Event-ID`` header resumes after that entry. Blocking reads run
in worker threads (at most `STREAM_THREADS` at once, apart from the handlers' pool), each
waiting at most `BLOCK_MS`, so a client that goes away frees its thread within that.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Header, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from tasks_core.errors import ValidationError
from tasks_core.events.emit import build_event
from tasks_core.events.feed import EventFilter, follow_start, list_events, read_after
from tasks_core.events.schema import Event, EventLimits
from tasks_core.process_runtime import get_runtime
from tasks_core.store.connection import StoreError
from tasks_core.times import parse_since

__all__ = ["BLOCK_MS", "MAX_LIMIT", "STREAM_THREADS", "EmitReply", "EmitRequest", "EventList",
           "emit", "event_filter", "list_route", "parse_moment", "router", "sse_frame"]

log = logging.getLogger("tasks_core.api")

router = APIRouter(prefix="/events", tags=["events"])

MAX_LIMIT = 1000
"""Most events one listing returns."""

BLOCK_MS = 1000
"""Longest one stream read waits for new entries (milliseconds)."""

STREAM_THREADS = 16
"""Stream reads blocked at once; more clients wait their turn (never the handlers' pool)."""

_stream_limiter: anyio.CapacityLimiter | None = None

_ENTRY_ID = re.compile(r"\d{1,20}-\d{1,20}")

_EVENT_Q = Query(None, max_length=1000, description="event-name glob, e.g. "
                 "'tasks-core.flow-run.*' or '*.Failed'; repeat it: any may match")
_RESOURCE_Q = Query(None, max_length=1000,
                    description="glob on the resource id, e.g. 'tasks-core.deployment.*'")
_RELATED_Q = Query(None, max_length=1000,
                   description="glob that some related resource's id must match")
_SINCE_Q = Query(None, max_length=100, description="received at or after: a duration back "
                 "(30s, 15m, 1h, 2d) or an ISO time (UTC without an offset)")
_UNTIL_Q = Query(None, max_length=100, description="received at or before (as since)")


class EventList(BaseModel):
    """Events passing the filters, newest first (at most ``limit``)."""

    items: list[Event]
    limit: int


class EmitRequest(BaseModel):
    """One event to emit: `emit_event`'s arguments. Prefect's spellings are accepted
    (``prefect.resource.id``, ``prefect.flow-run.*``) and stored in tasks-core's."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="its name, e.g. acme.order.shipped")
    resource: dict[str, str] = Field(
        description="labels of its resource, with tasks-core.resource.id")
    payload: dict[str, Any] | None = Field(default=None, description="JSON data")
    related: list[dict[str, str]] | None = Field(
        default=None, description="other resources, each with tasks-core.resource.id and "
                                  "tasks-core.resource.role")
    occurred: datetime | None = Field(default=None,
                                      description="when it happened (default now; UTC "
                                                  "without an offset)")
    follows: str | None = Field(default=None, description="id of an event it comes after")
    id: str | None = Field(default=None, description="its id (default a new UUID); an id "
                                                     "already stored is not stored again")


class EmitReply(BaseModel):
    """The emitted event's id; the event is on the stream when this is sent."""

    id: str


def parse_moment(value: str, now: datetime, *, field: str) -> datetime:
    """A time from a query or body: a duration back from `now` (``30s``, ``15m``, ``1h``,
    ``2d``, ``1w``) or an ISO time (UTC when it has no offset); `tasks_core.times`' grammar.

    Raises:
        ValidationError: neither form; the message names `field` and shows both.
    """
    try:
        return parse_since(value, now, naive="utc")
    except ValidationError as exc:
        raise ValidationError(f"{field}: {exc}") from None


def event_filter(event: list[str] | None, resource: str | None, related: str | None,
                 since: str | None, until: str | None, *, now: datetime) -> EventFilter:
    """The feed's filter from query values (times as `parse_moment` reads them)."""
    return EventFilter(events=tuple(event or ()), resource=resource, related=related,
                       since=parse_moment(since, now, field="since") if since else None,
                       until=parse_moment(until, now, field="until") if until else None)


@router.get("", response_model=EventList, operation_id="list_events",
            description="Events passing every filter given, newest first (as `tasks-core "
                        "events ls`).")
def list_route(
    event: list[str] | None = _EVENT_Q,
    resource: str | None = _RESOURCE_Q,
    related: str | None = _RELATED_Q,
    since: str | None = _SINCE_Q,
    until: str | None = _UNTIL_Q,
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description="return at most this many"),
) -> EventList:
    where = event_filter(event, resource, related, since, until, now=datetime.now(UTC))
    return EventList(items=list_events(get_runtime().events, where, limit=limit), limit=limit)


def emit(request: EmitRequest) -> Event:
    """Validate the event as `emit_event` does and write it to the stream now.

    Raises:
        EventError: a missing or bad field, or a limit exceeded (422, the field named).
        StoreUnavailable: Redis is away (503); nothing was written.
    """
    rt = get_runtime()
    related: list[Mapping[str, str]] | None = None if request.related is None \
        else list(request.related)
    built = build_event(request.event, request.resource, request.payload, related,
                        request.occurred, request.follows, request.id,
                        limits=EventLimits.from_settings(rt.settings))
    stored = built.model_copy(update={"received": datetime.now(UTC)})
    rt.events.write([(stored.id, stored.model_dump_json())])
    return stored


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=EmitReply,
             operation_id="emit_event",
             description="Emit one event (the checks and limits of `emit_event`); 202 once "
                         "it is on the stream, 422 naming a bad field, 503 when Redis is "
                         "away (nothing written).")
def emit_route(request: EmitRequest) -> EmitReply:
    return EmitReply(id=emit(request).id)


def sse_frame(entry_id: str, event: Event) -> str:
    """One server-sent event: ``id: <entry id>`` and ``data: <event JSON>`` (one line)."""
    return f"id: {entry_id}\ndata: {event.model_dump_json()}\n\n"


def _limiter() -> anyio.CapacityLimiter:
    global _stream_limiter
    if _stream_limiter is None:  # made in the event loop that uses it
        _stream_limiter = anyio.CapacityLimiter(STREAM_THREADS)
    return _stream_limiter


async def _frames(where: EventFilter, last: str, heartbeat: float) -> AsyncIterator[str]:
    """The stream's text: events after entry `last` passing `where`, and heartbeats."""
    store = get_runtime().events
    yield ": connected\n\n"
    quiet_since = time.monotonic()
    while True:
        try:
            last, found = await anyio.to_thread.run_sync(
                partial(read_after, store, where, last, block_ms=BLOCK_MS), limiter=_limiter())
        except (StoreError, OSError) as exc:  # Redis away: keep the stream, try again
            log.warning("event stream: Redis unavailable (%s); retrying", exc)
            yield ": the store (Redis) is unavailable; retrying\n\n"
            await anyio.sleep(1.0)
            continue
        for entry_id, event in found:
            yield sse_frame(entry_id, event)
        if found:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= heartbeat:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()


def _resume_from(last_event_id: str | None) -> str | None:
    if last_event_id is None or not last_event_id.strip():
        return None
    text = last_event_id.strip()
    if not _ENTRY_ID.fullmatch(text) or any(int(part) >= 2**64 for part in text.split("-")):
        raise ValidationError(f"Last-Event-ID: {last_event_id[:40]!r} is not a stream entry "
                              "id (<ms>-<seq>, as sent in an event's 'id:' line)")
    return text


@router.get("/stream", operation_id="stream_events",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "server-sent events, one per event"}},
            description="Follow events live as server-sent events (`text/event-stream`), "
                        "oldest first, with the filters of the listing (`until` aside); "
                        "`since` first replays events received since then. Ends when the "
                        "client disconnects.")
async def stream_route(
    event: list[str] | None = _EVENT_Q,
    resource: str | None = _RESOURCE_Q,
    related: str | None = _RELATED_Q,
    since: str | None = _SINCE_Q,
    last_event_id: str | None = Header(None, max_length=100, description="resume after "
                                       "this stream entry id (sent by EventSource clients)"),
) -> StreamingResponse:
    rt = get_runtime()
    where = event_filter(event, resource, related, since, None,
                         now=datetime.now(UTC)).normalized()
    start = _resume_from(last_event_id) or follow_start(where.since)
    if start == "$":  # fixed before the reply, so nothing written after it is missed
        start = await anyio.to_thread.run_sync(rt.events.last_id, limiter=_limiter())
    return StreamingResponse(
        _frames(where, start, rt.settings.api_stream_heartbeat_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

