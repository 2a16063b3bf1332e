"""`/api/automations`: create, list, read, update, delete, pause, resume and test
automations, through `tasks_core.automations` (the checks of ``Automation(...).create()``).

A body is an automation's fields as `Automation` takes them (``name``, ``trigger``,
``actions``, ``description``, ``enabled``, ``tags``; Prefect's spellings accepted in the
trigger); ``id``, ``created``, ``updated`` and ``owner_deployment_id`` are set when it is
stored and refused in a body. A refused automation is a 422 whose detail is the reason
`Automation` gives (``automation 'x': trigger: EventTrigger: within: must be >= 0 s, got
-1 s``); an unknown name or id a 404 with close names. ``{name}`` is a name, an id or a
unique start of one (names may hold ``/``).

Automations a deployment owns (made from its ``triggers``) are treated as the CLI and
``Automation.update()`` treat them: they can be paused, resumed, updated and deleted, they
stay owned by the deployment, and deploying it again replaces them with its own triggers.

``POST /api/automations/{name}/test`` is `tasks-core automation test`: stored events of a
window replayed through the trigger, no action run (`tasks_core.automations.replay`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tasks_core.api.events import parse_moment
from tasks_core.automations import (
    Automation,
    AutomationError,
    create_automation,
    delete_automation,
    list_automations,
    read_automation,
    set_enabled,
    update_automation,
)
from tasks_core.automations.replay import replay_window
from tasks_core.events.triggers.firing import Firing
from tasks_core.process_runtime import get_runtime

__all__ = ["SHOWN_FIRINGS", "AutomationBody", "Finding", "ReplayReply", "ReplayRequest",
           "automation_of", "replay_automation", "router"]

router = APIRouter(prefix="/automations", tags=["automations"])

SHOWN_FIRINGS = 100
"""Most firings a test reply lists (``firing_count`` has them all)."""

SET_BY_STORE = ("id", "created", "updated", "owner_deployment_id")
"""Fields a body must not give."""

_NAME_DOC = "a name, an id or a unique start of an id"


class AutomationBody(BaseModel):
    """An automation to store. ``trigger`` and ``actions`` are checked by `Automation`
    (their shapes: `tasks_core.events.triggers`, `tasks_core.events.actions`); any other
    field is refused there, naming it."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="unique among automations, one line, 1 to 200 characters")
    trigger: dict[str, Any] = Field(
        description="an event, compound or sequence trigger as JSON, e.g. {\"expect\": "
                    "[\"acme.order.shipped\"]}")
    actions: list[Any] | dict[str, Any] = Field(
        description="actions as JSON, in order, e.g. [{\"type\": \"do-nothing\"}]")
    description: str | None = Field(default=None, description="free text (default \"\")")
    enabled: bool | None = Field(default=None, description="False: stored paused")
    tags: list[str] | None = None


class ReplayRequest(BaseModel):
    """The window of events to replay (received times)."""

    model_config = ConfigDict(extra="forbid")

    since: str = Field(default="1h", max_length=100,
                       description="a duration back (30s, 15m, 1h, 2d) or an ISO time (UTC "
                                   "without an offset)")
    until: str | None = Field(default=None, max_length=100,
                              description="as since; default now")


class Finding(BaseModel):
    """Why the trigger never fired: the condition that failed and the figures behind it."""

    condition: str = Field(description="event, label, related, after, threshold, window, "
                                       "children or order")
    message: str
    trigger: str = Field(description="the failing trigger's path ('' the root, '0.1' ...)")
    label: str | None = None
    got: int | None = None
    needed: int | None = None
    within: float | None = Field(default=None, description="seconds")


class ReplayReply(BaseModel):
    """What replaying the window found (no action ran)."""

    automation_id: str
    name: str
    enabled: bool
    start: datetime
    end: datetime
    events: int = Field(description="events replayed")
    capped: bool = Field(description="the window held more events than one replay reads")
    fired: bool
    firing_count: int
    firings: list[Firing] = Field(description=f"the first {SHOWN_FIRINGS} firings")
    reason: Finding | None = Field(description="when it never fired: why")
    summary: str = Field(description="one line, as `tasks-core automation test` prints")


def automation_of(body: AutomationBody, base: Automation | None = None) -> Automation:
    """The automation a body describes; on `base` (an update) the fields it leaves out
    (description, enabled, tags) keep their values.

    Raises:
        AutomationError: a field set when stored is given, or `Automation` refuses it.
    """
    given = body.model_dump(exclude_unset=True)
    if fixed := [name for name in SET_BY_STORE if name in given]:
        raise AutomationError(f"automation {body.name!r}: {', '.join(fixed)} cannot be given "
                              "(set when stored)")
    fields = {k: v for k, v in given.items() if v is not None or k not in
              ("description", "enabled", "tags")}
    if base is None:
        return Automation.model_validate(fields)
    kept = base.model_dump(mode="json", include={"id", "description", "enabled", "tags",
                                                 "owner_deployment_id", "created"})
    return Automation.model_validate({**kept, **fields})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Automation,
             operation_id="create_automation",
             description="Create an automation (422 with the reason when it is refused: "
                         "its trigger, an action, a template, a target that does not exist, "
                         "a name taken).")
def create_route(body: AutomationBody) -> Automation:
    return create_automation(automation_of(body))


@router.get("", response_model=list[Automation], operation_id="list_automations",
            description="Every automation, by name.")
def list_route() -> list[Automation]:
    return list_automations()


@router.get("/{name:path}", response_model=Automation, operation_id="read_automation",
            description=f"One automation: {_NAME_DOC} (404 with close names).")
def read_route(name: str) -> Automation:
    return read_automation(name)


@router.put("/{name:path}", response_model=Automation, operation_id="update_automation",
            description="Replace an automation's name, trigger and actions (and description, "
                        "enabled, tags when given; kept otherwise). A deployment's own stays "
                        "owned by it.")
def update_route(name: str, body: AutomationBody) -> Automation:
    current = read_automation(name)
    return update_automation(automation_of(body, current))


@router.delete("/{name:path}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, operation_id="delete_automation",
               description="Delete an automation (a deployment's own come back when it is "
                           "deployed again).")
def delete_route(name: str) -> Response:
    automation = read_automation(name)
    delete_automation(automation.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name:path}/pause", response_model=Automation,
             operation_id="pause_automation",
             description="Pause an automation: it fires nothing until resumed (already "
                         "paused: unchanged).")
def pause_route(name: str) -> Automation:
    return set_enabled(name, False)[0]


@router.post("/{name:path}/resume", response_model=Automation,
             operation_id="resume_automation",
             description="Resume a paused automation (already enabled: unchanged).")
def resume_route(name: str) -> Automation:
    return set_enabled(name, True)[0]


def replay_automation(name: str, request: ReplayRequest, *, now: datetime) -> ReplayReply:
    """Replay the window of `request` through the automation's trigger (no action runs).

    Raises:
        AutomationNotFound: no such automation.
        ValidationError: a time that does not parse, or ``until`` before ``since``.
    """
    automation = read_automation(name)
    start = parse_moment(request.since, now, field="since")
    end = parse_moment(request.until, now, field="until") if request.until else now
    replayed = replay_window(automation, start=start, end=end)
    found = replayed.explanation
    reason = None if found.reason is None else Finding(**vars(found.reason))
    return ReplayReply(automation_id=automation.id, name=automation.name,
                     enabled=automation.enabled, start=start, end=end, events=found.events,
                     capped=replayed.capped, fired=found.fired,
                     firing_count=len(found.firings), firings=found.firings[:SHOWN_FIRINGS],
                     reason=reason, summary=found.render())


@router.post("/{name:path}/test", response_model=ReplayReply,
             operation_id="test_automation",
             description="Replay the stored events of a window through the automation's "
                         "trigger, no action run: when it would have fired, or which "
                         "condition failed (as `tasks-core automation test`).")
def test_route(name: str, request: ReplayRequest | None = None) -> ReplayReply:
    # events this server emitted and still buffers (the automation.created of one made
    # just before, events posted to it) are written first, up to 2 s, and only then is
    # "now" taken: the window is by the time events were written (replay_window)
    get_runtime().emitter.flush(timeout=2.0)
    return replay_automation(name, request or ReplayRequest(), now=datetime.now(UTC))
