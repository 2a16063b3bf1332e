"""What an action runs with (`ActionContext`) and what it returns (`ActionResult`).

The trigger engine builds one context per action of a firing::

    ActionContext(automation=AutomationRef(id="a1", name="ship-it"),
                  event=firing.event, firing=firing, action_index=0,
                  idempotency_key=f"{firing.id}:0",
                  set_automation_enabled=store.set_enabled)   # Pause/ResumeAutomation
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tasks_core.events.schema import Event
from tasks_core.events.triggers.firing import Firing

__all__ = ["ActionContext", "ActionResult", "AutomationRef", "SetAutomationEnabled"]

SetAutomationEnabled = Callable[[str, bool], object]
"""``(name_or_id, enabled)``: pause (False) or resume (True) an automation; raises
`tasks_core.errors.NotFoundError` (or any error, reported as the action's failure) when it
cannot. The automation store provides it; actions do not reach that store themselves."""


@dataclass(frozen=True)
class AutomationRef:
    """The automation an action belongs to (its id and name)."""

    id: str
    name: str


@dataclass(frozen=True)
class ActionContext:
    """Everything one execution of an action needs.

    Attributes:
        automation: the automation whose action this is.
        event: the triggering event (None: a Proactive trigger whose window saw none).
        firing: the firing (its id, time and counted event ids), when there is one.
        idempotency_key: ``"<firing id>:<action index>"``: RunDeployment's run is created
            once per key, so executing the action again returns the same run.
        action_index: the action's position in the automation's list.
        set_automation_enabled: how Pause/ResumeAutomation act (None: they fail, saying so).
        now: the time the action runs (default: now, UTC); RunDeployment's schedule_after
            counts from it.
    """

    automation: AutomationRef
    idempotency_key: str
    event: Event | None = None
    firing: Firing | None = None
    action_index: int = 0
    set_automation_enabled: SetAutomationEnabled | None = None
    now: datetime | None = None

    def at(self) -> datetime:
        """`now`, else the current time (UTC)."""
        return self.now or datetime.now(UTC)


@dataclass(frozen=True)
class ActionResult:
    """A successful execution.

    Attributes:
        action_type: e.g. ``run-deployment``.
        action_index: its position in the automation's list.
        target: the resource id it acted on (``tasks-core.deployment.<id>``), or "".
        detail: what it did, JSON (``{"flow_run_id": ..., "created": true}``,
            ``{"status": 200}``, ...); also the executed event's payload.
    """

    action_type: str
    action_index: int
    target: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
