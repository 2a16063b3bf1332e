"""`Firing`: what an evaluator says when a trigger fires (JSON, stored with the action).

Shape::

    {"id": "<32 hex>", "trigger": "" | "0" | "0.1", "fired_at": "<ISO-8601>",
     "labels": {"<for_each label>": "<value>"}, "count": 3,
     "event": {<Event>} | null, "event_ids": ["<id>", ...], "children": [<Firing>, ...]}

``trigger`` is the trigger's path in its tree ("" the root, "1.0" the first child of the
second child). ``event`` is the event that tipped a Reactive trigger, or the last one a
Proactive trigger's window saw (its opening ``after`` event, if nothing else came; None
when it saw none). ``event_ids`` are the events counted (at most `MAX_EVENT_IDS`).

``id`` is a hash of what fired (path, labels, time, events, children), not a random id:
re-evaluating the same events from the same saved state after a crash gives the same
firing id, so the engine's idempotency key (firing id + action index, SET NX) stops a
second execution.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tasks_core.events.schema import Event

__all__ = ["MAX_EVENT_IDS", "Firing", "firing_id"]

MAX_EVENT_IDS = 100


class Firing(BaseModel):
    """One firing of a trigger (see the module docstring for the JSON shape)."""

    id: str
    trigger: str
    fired_at: datetime
    labels: dict[str, str] = Field(default_factory=dict)
    count: int = 0
    event: Event | None = None
    event_ids: list[str] = Field(default_factory=list)
    children: list[Firing] = Field(default_factory=list)

    @classmethod
    def make(cls, *, trigger: str, fired_at: datetime, labels: dict[str, str], count: int,
             event: Event | None, event_ids: list[str],
             children: list[Firing] | None = None) -> Firing:
        """A firing with its deterministic id."""
        kids = children or []
        ids = event_ids[-MAX_EVENT_IDS:]
        return cls(id=firing_id(trigger, fired_at, labels, ids, [c.id for c in kids]),
                   trigger=trigger, fired_at=fired_at, labels=labels, count=count,
                   event=event, event_ids=ids, children=kids)


def firing_id(trigger: str, fired_at: datetime, labels: dict[str, str],
              event_ids: list[str], children: list[str]) -> str:
    """The id of a firing: a SHA-256 (32 hex digits) of what fired."""
    body: Any = [trigger, fired_at.isoformat(), sorted(labels.items()), event_ids, children]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()[:32]
