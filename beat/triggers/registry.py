"""The automations the engine evaluates: one evaluator each, filed in a `TriggerIndex`.

Only enabled automations are filed in the index (a paused one never sees an event), but a
paused automation keeps its evaluator, so pausing and resuming keeps its state; a changed
trigger (compared by its JSON) starts a fresh evaluator. Saved states are JSON
``{"trigger": <fingerprint>, "state": <evaluator.to_state()>, "alerts": {...}}``; a state
saved for another trigger is ignored. ``alerts`` are the firings of a Proactive event
trigger whose expected event has not come since: the engine writes
``tasks-core.automation.resolved`` when it comes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tasks_core.automations.model import AutomationModel
from tasks_core.events.schema import Event
from tasks_core.events.triggers import (
    Evaluator,
    EventTrigger,
    Firing,
    TriggerIndex,
    evaluator_for,
    restore_evaluator,
)

__all__ = ["Loaded", "Registry", "fingerprint"]

log = logging.getLogger("tasks_core.beat.triggers")


def fingerprint(automation: AutomationModel) -> str:
    """The automation's trigger as canonical JSON (a change of it resets the state)."""
    return json.dumps(automation.trigger.model_dump(mode="json"), sort_keys=True)


@dataclass
class Loaded:
    """One automation as the engine holds it."""

    automation: AutomationModel
    fingerprint: str
    evaluator: Evaluator
    alerts: dict[str, str] = field(default_factory=dict)
    """Proactive firings not resolved yet: JSON list of the bucket's ``for_each`` values ->
    firing id (see `note_firings` / `resolve`)."""

    def saved(self) -> dict[str, Any]:
        """The state to persist (JSON)."""
        return {"trigger": self.fingerprint, "state": self.evaluator.to_state(),
                "alerts": self.alerts}

    def note_firings(self, firings: list[Firing]) -> None:
        """Remember the firings of a Proactive event trigger until its event comes."""
        trigger = self.automation.trigger
        if not isinstance(trigger, EventTrigger) or trigger.posture != "Proactive":
            return
        for firing in firings:
            key = [firing.labels.get(label, "") for label in trigger.matcher.for_each]
            self.alerts[json.dumps(key)] = firing.id

    def resolve(self, event: Event) -> str | None:
        """The firing `event` resolves (an expected event of a Proactive trigger that fired
        for its bucket), forgotten now; None when it resolves none."""
        trigger = self.automation.trigger
        if not self.alerts or not isinstance(trigger, EventTrigger):
            return None
        matcher = trigger.matcher
        if not (matcher.expects(event.event) and matcher.covers(event)):
            return None
        return self.alerts.pop(json.dumps(list(matcher.bucket_key(event))), None)


class Registry:
    """The loaded automations, their index by event name, and their deadlines."""

    def __init__(self) -> None:
        self.loaded: dict[str, Loaded] = {}
        self.index: TriggerIndex[str] = TriggerIndex()
        self.deadlines: dict[str, datetime] = {}

    def put(self, automation: AutomationModel, saved: dict[str, Any] | None,
            now: datetime) -> list[Firing]:
        """Load or reload `automation` (resuming `saved` when it is its trigger's state);
        the firings its first tick gives (Proactive windows that ended while away)."""
        fp = fingerprint(automation)
        current = self.loaded.get(automation.id)
        if current is not None and current.fingerprint == fp:
            current.automation = automation  # enabled, actions, name: the state stays
            self._file(current)
            return []
        evaluator: Evaluator | None = None
        if saved is not None and saved.get("trigger") == fp:
            try:
                evaluator = restore_evaluator(automation.trigger, saved["state"])
            except Exception:  # a state of an older shape: start afresh, say so
                log.warning("automation %r: saved trigger state unreadable; starting afresh",
                            automation.name, exc_info=True)
        loaded = Loaded(automation, fp, evaluator or evaluator_for(automation.trigger))
        if evaluator is not None and saved is not None:
            loaded.alerts = dict(saved.get("alerts") or {})
        self.loaded[automation.id] = loaded
        self._file(loaded)
        return self.tick(automation.id, now)

    def remove(self, automation_id: str) -> bool:
        """Forget an automation; whether it was loaded."""
        self.index.remove(automation_id)
        self.deadlines.pop(automation_id, None)
        return self.loaded.pop(automation_id, None) is not None

    def candidates(self, event_name: str) -> list[Loaded]:
        """The enabled automations whose triggers may match an event of this name."""
        return [self.loaded[key] for key in sorted(self.index.candidates(event_name))]

    def tick(self, automation_id: str, now: datetime) -> list[Firing]:
        """Tick one automation's evaluator; its firings."""
        loaded = self.loaded[automation_id]
        firings = loaded.evaluator.tick(now) if loaded.automation.enabled else []
        loaded.note_firings(firings)
        self.note_deadline(automation_id)
        return firings

    def due(self, now: datetime) -> list[str]:
        """Automations whose next deadline has come."""
        return sorted(key for key, at in self.deadlines.items() if at <= now)

    def next_deadline(self) -> datetime | None:
        """The earliest deadline of any enabled automation."""
        return min(self.deadlines.values(), default=None)

    def note_deadline(self, automation_id: str) -> None:
        """Refresh an automation's deadline after its evaluator changed."""
        loaded = self.loaded.get(automation_id)
        deadline = loaded.evaluator.next_deadline() if loaded and \
            loaded.automation.enabled else None
        if deadline is None:
            self.deadlines.pop(automation_id, None)
        else:
            self.deadlines[automation_id] = deadline

    def _file(self, loaded: Loaded) -> None:
        if loaded.automation.enabled:
            self.index.add(loaded.automation.id, loaded.automation.trigger)
        else:
            self.index.remove(loaded.automation.id)
        self.note_deadline(loaded.automation.id)
