"""``/events``: the event feed (filters as GET parameters, newest first, live updates) and
``/events/{id}``: one event, formatted (links to the resources it names) and raw (the
exact JSON the stream holds)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from tasks_core.api.events import event_filter
from tasks_core.dashboard.templating import NAV, page
from tasks_core.errors import ValidationError
from tasks_core.events.feed import list_events, parse_entry
from tasks_core.events.schema import RESOURCE_ID, Event
from tasks_core.process_runtime import get_runtime

__all__ = ["PAGE_SIZE", "PREVIEW_CHARS", "event_href", "payload_preview", "resource_link",
           "router"]

router = APIRouter(include_in_schema=False)
NAV.append(("Events", "/events"))

PAGE_SIZE = 100
"""Events one page of the feed shows."""

PREVIEW_CHARS = 120
"""Longest payload preview in the feed (characters of its compact JSON)."""

_PAGES = {"flow-run": "/flow-runs/", "task-run": "/task-runs/",
          "deployment": "/deployments/", "automation": "/automations/",
          "work-pool": "/work-pools/", "webhook": "/webhooks/"}
"""Resource kinds of ours (``tasks-core.<kind>.<id>``) -> the dashboard page of one."""


def resource_link(resource_id: str) -> str | None:
    """The dashboard path of a resource of ours (``tasks-core.flow-run.<id>`` ->
    ``/flow-runs/<id>``); None for any other id (shown as text)."""
    prefix, _, rest = resource_id.partition(".")
    kind, _, ident = rest.partition(".")
    if prefix != "tasks-core" or kind not in _PAGES or not ident:
        return None
    return _PAGES[kind] + quote(ident, safe="")  # an id can never walk to another path


def event_href(event: Event) -> str:
    """The event page's path, with where to look first (``?at=<received, epoch ms>``)."""
    path = f"/events/{quote(event.id, safe='')}"
    moment = event.received or event.occurred
    return f"{path}?at={int(moment.timestamp() * 1000)}"


def payload_preview(payload: dict[str, Any]) -> str:
    """The payload's compact JSON, cut at `PREVIEW_CHARS` (with an ellipsis)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


@router.get("/events", response_class=HTMLResponse)
def events(
    request: Request,
    event: str | None = Query(None, max_length=1000),
    resource: str | None = Query(None, max_length=1000),
    related: str | None = Query(None, max_length=1000),
    since: str | None = Query(None, max_length=100),
    until: str | None = Query(None, max_length=100),
    partial: bool = False,
) -> HTMLResponse:
    """The feed (or with ``partial``, only its list: what live updates fetch). A bad filter
    is shown on the page, naming the field."""
    filters = {"event": event or "", "resource": resource or "", "related": related or "",
               "since": since or "", "until": until or ""}
    found: list[Event] = []
    error = None
    try:
        where = event_filter([event] if event else None, resource or None, related or None,
                             since or None, until or None, now=datetime.now(UTC))
        found = list_events(get_runtime().events, where, limit=PAGE_SIZE)
    except ValidationError as exc:
        error = str(exc)
    return page(request, "events_list.html" if partial else "events.html",
                events=found, filters=filters, error=error, live_glob=event or "*",
                preview=payload_preview, link=resource_link, href=event_href,
                resource_id=RESOURCE_ID)


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_detail(request: Request, event_id: str,
                 at: int | None = Query(None, ge=0, le=2**53)) -> HTMLResponse:
    """One event: formatted, with links to the resources of ours it names, and its raw
    JSON as stored. ``at`` (epoch ms, the feed's links carry its ``received``) is where the
    look-up starts. 404 when the stream does not (or no longer) hold it."""
    if len(event_id) > 200:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such event")
    entry = get_runtime().events.find(event_id, near_ms=at)
    found = parse_entry(entry) if entry is not None else None
    if entry is None or found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"event {event_id!r} is not on the stream (it may be "
                                   "older than the retention); the feed is at /events")
    return page(request, "event.html", event=found, entry_id=entry[0], raw=entry[1],
                pretty_payload=json.dumps(found.payload, indent=2, ensure_ascii=False,
                                          default=str),
                link=resource_link, resource_id=RESOURCE_ID)
