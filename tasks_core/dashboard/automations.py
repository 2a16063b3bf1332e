"""``/automations``: every automation (trigger in a few words, enabled, last firing);
``/automations/new`` and ``/automations/{name}``: the editor (trigger and actions as forms
kept in sync with the automation's JSON, ``static/automations.js``; saved through
``/api/automations``), enable/disable, "test against the last hour", and each firing with its
triggering event and each action's outcome, read from the event stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tasks_core.automations import Automation, list_automations, read_automation
from tasks_core.dashboard.templating import NAV, page
from tasks_core.deployment_models import Deployment
from tasks_core.events.actions.execute import ACTION_EXECUTED, ACTION_FAILED
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event
from tasks_core.events.triggers import EventTrigger
from tasks_core.process_runtime import get_runtime

__all__ = ["TRIGGERED", "Firing", "firings_of", "group_firings", "new_automation", "router",
           "trigger_text"]

router = APIRouter(include_in_schema=False)
NAV.append(("Automations", "/automations"))

TRIGGERED = "tasks-core.automation.triggered"
"""What beat's trigger engine emits when an automation fires (``beat.triggers.firings``)."""
SHOWN_EVENTS = 300
"""Newest automation events read for a page (firings and action outcomes)."""
EDITED = ("name", "description", "enabled", "tags", "trigger", "actions")
"""The fields the editor shows (the API refuses the ones set when stored)."""


@dataclass
class Firing:
    """One firing of an automation: the triggered event, the event that triggered it
    (id and name, None when the trigger fired on absence) and its actions' outcome events
    (``tasks-core.automation.action.executed`` / ``.failed``), by action index."""

    event: Event
    triggering_id: str | None
    triggering_name: str | None
    actions: list[Event] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.event.payload.get("firing_id", ""))


def trigger_text(automation: Automation) -> str:
    """The trigger in a few words: ``expect a.* (2 within 30 s)``, ``compound of 2``."""
    trigger = automation.trigger
    if not isinstance(trigger, EventTrigger):
        return f"{trigger.type} of {len(getattr(trigger, 'triggers', []))} triggers"
    expect = ", ".join(sorted(trigger.expect)) or "*"
    verb = "expect" if trigger.posture == "Reactive" else "expect absence of"
    if trigger.within:
        return f"{verb} {expect} ({trigger.threshold} within " \
               f"{trigger.within.total_seconds():g} s)"
    times = f" ({trigger.threshold} times)" if trigger.threshold != 1 else ""
    return f"{verb} {expect}{times}"


def _events(resource: str) -> list[Event]:
    where = EventFilter(events=(TRIGGERED, ACTION_EXECUTED, ACTION_FAILED), resource=resource)
    return list_events(get_runtime().events, where, limit=SHOWN_EVENTS)


def _triggering(event: Event) -> tuple[str | None, str | None]:
    for related in event.related:
        if related.get(RESOURCE_ROLE) == "triggering-event":
            return (related[RESOURCE_ID].removeprefix("tasks-core.event."),
                    related.get(RESOURCE_NAME))
    return None, None


def firings_of(automation_id: str) -> list[Firing]:
    """The automation's firings found among the newest `SHOWN_EVENTS` of its events, newest
    first, each with its action outcomes in action order."""
    return group_firings(_events(f"tasks-core.automation.{automation_id}"))


def group_firings(events: list[Event]) -> list[Firing]:
    """Pure: the firings among `events` (an automation's triggered and action events, in any
    order), in the order their triggered events come, each with the action events of the
    same ``firing_id`` sorted by ``action_index``; action events of firings not among them
    are left out."""
    firings = [Firing(e, *_triggering(e)) for e in events if e.event == TRIGGERED]
    by_id = {f.id: f for f in firings}
    for event in events:
        firing = by_id.get(str(event.payload.get("firing_id", "")))
        if event.event != TRIGGERED and firing is not None:
            firing.actions.append(event)
    for firing in firings:
        firing.actions.sort(key=lambda e: int(e.payload.get("action_index", 0)))
    return firings


def _last_firings() -> dict[str, datetime]:
    """Automation id -> when its newest firing in the stream's newest events was."""
    last: dict[str, datetime] = {}
    for event in list_events(get_runtime().events,
                             EventFilter(events=(TRIGGERED,), resource="tasks-core.automation.*"),
                             limit=SHOWN_EVENTS):
        last.setdefault(event.resource_id.removeprefix("tasks-core.automation."),
                        event.occurred)
    return last


def new_automation(deployment: Deployment | None) -> dict[str, Any]:
    """The JSON a new automation starts from: an event trigger and a DoNothing action, or,
    for `deployment` (the "+ Add" of its Triggers), a RunDeployment action for it."""
    action: dict[str, Any] = {"type": "do-nothing"}
    name = ""
    if deployment is not None:
        action = {"type": "run-deployment", "source": "selected",
                  "deployment_id": deployment.id, "parameters": {}}
        name = f"run {deployment.full_name}"
    return {"name": name, "description": "", "enabled": True, "tags": [],
            "trigger": {"type": "event", "expect": [], "match": {}, "for_each": [],
                        "posture": "Reactive", "threshold": 1, "within": 0},
            "actions": [action]}


@router.get("/automations", response_class=HTMLResponse)
def automations(request: Request) -> HTMLResponse:
    """Every automation, by name."""
    return page(request, "automations.html", automations=list_automations(),
                last=_last_firings(), trigger_text=trigger_text)


@router.get("/automations/new", response_class=HTMLResponse)
def create(request: Request,
           deployment: str | None = Query(None, min_length=1, max_length=200)) -> HTMLResponse:
    """The editor for a new automation (``?deployment=<id>``: pre-filled to run it; 404
    when there is no such deployment)."""
    found = get_runtime().deployments.get(deployment) if deployment else None
    return page(request, "automation.html", automation=None, data=new_automation(found),
                firings=[], trigger_text=trigger_text)


@router.get("/automations/{name:path}", response_class=HTMLResponse)
def edit(request: Request, name: str, partial: bool = False) -> HTMLResponse:
    """An automation's page: the editor, enable/disable, test, its firings (with
    ``partial``: only the firings, what live updates fetch); 404 with close names when
    there is none."""
    automation = read_automation(name)
    return page(request, "automation_firings.html" if partial else "automation.html",
                automation=automation,
                data=automation.model_dump(mode="json", include=set(EDITED)),
                firings=firings_of(automation.id), trigger_text=trigger_text)
