"""Evaluating compound and sequence triggers, and `evaluator_for` any trigger (pure).

A composite keeps the latest firing of each child. When a child fires at time T, child
firings older than ``T - within`` are dropped (``within`` None or 0: none are); then

- a `CompoundTrigger` fires when ``required`` distinct children have a firing;
- a `SequenceTrigger` fires when every child has one and, ordered by time, they come in
  the children's order (a tie keeps the children's order).

Firing clears the kept child firings. The composite's firing carries the child firings
(``children``), the event of the child that completed it, and fires at that child's time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from tasks_core.events.schema import Event
from tasks_core.events.triggers.evaluation import EventTriggerEvaluator
from tasks_core.events.triggers.firing import Firing
from tasks_core.events.triggers.models import (
    CompoundTrigger,
    EventTrigger,
    SequenceTrigger,
    Trigger,
)

__all__ = ["CompositeEvaluator", "Evaluator", "evaluator_for", "restore_evaluator"]


class Evaluator(Protocol):
    """What the engine drives: events and ticks in, firings out; JSON state."""

    def handle(self, event: Event) -> list[Firing]:
        """Take one event; the firings it causes."""

    def tick(self, now: datetime) -> list[Firing]:
        """Let time pass to `now`; the firings that gives."""

    def next_deadline(self) -> datetime | None:
        """When to tick next (None: only events matter)."""

    def to_state(self) -> dict[str, Any]:
        """The state as JSON."""


class CompositeEvaluator:
    """The state machine of a `CompoundTrigger` or `SequenceTrigger` and its children."""

    def __init__(self, trigger: CompoundTrigger | SequenceTrigger, path: str = "") -> None:
        self.trigger = trigger
        self.path = path
        self.children: list[Evaluator] = [
            evaluator_for(child, _child_path(path, i)) for i, child in enumerate(trigger.triggers)]
        self.fired: dict[int, Firing] = {}

    def handle(self, event: Event) -> list[Firing]:
        """Pass `event` to every child; the composite's own firings."""
        return self._collect([child.handle(event) for child in self.children])

    def tick(self, now: datetime) -> list[Firing]:
        """Tick every child; the composite's own firings."""
        return self._collect([child.tick(now) for child in self.children])

    def next_deadline(self) -> datetime | None:
        """The earliest deadline among the children."""
        deadlines = [d for c in self.children if (d := c.next_deadline()) is not None]
        return min(deadlines, default=None)

    def to_state(self) -> dict[str, Any]:
        """Children's states and the kept child firings, as JSON."""
        return {"children": [c.to_state() for c in self.children],
                "fired": {str(i): f.model_dump(mode="json") for i, f in self.fired.items()}}

    @classmethod
    def from_state(cls, trigger: CompoundTrigger | SequenceTrigger, state: dict[str, Any],
                   path: str = "") -> CompositeEvaluator:
        """An evaluator resumed from `to_state`'s output."""
        evaluator = cls(trigger, path)
        evaluator.children = [
            restore_evaluator(child, child_state, _child_path(path, i))
            for i, (child, child_state) in enumerate(
                zip(trigger.triggers, state["children"], strict=True))]
        evaluator.fired = {int(i): Firing.model_validate(f) for i, f in state["fired"].items()}
        return evaluator

    def _collect(self, per_child: list[list[Firing]]) -> list[Firing]:
        arrivals = sorted(((f.fired_at, i, f) for i, fs in enumerate(per_child) for f in fs),
                          key=lambda item: (item[0], item[1]))
        firings: list[Firing] = []
        for _, index, firing in arrivals:
            mine = self._child_fired(index, firing)
            if mine is not None:
                firings.append(mine)
        return firings

    def _child_fired(self, index: int, firing: Firing) -> Firing | None:
        window = self.trigger.window
        if window is not None:
            oldest = firing.fired_at - window
            self.fired = {i: f for i, f in self.fired.items() if f.fired_at >= oldest}
        self.fired[index] = firing
        if not self._ready():
            return None
        children = [self.fired[i] for i in sorted(self.fired, key=self._order)]
        self.fired = {}
        return Firing.make(trigger=self.path, fired_at=firing.fired_at, labels=firing.labels,
                           count=len(children), event=firing.event,
                           event_ids=[e for c in children for e in c.event_ids],
                           children=children)

    def _order(self, index: int) -> tuple[datetime, int]:
        return (self.fired[index].fired_at, index)

    def _ready(self) -> bool:
        if isinstance(self.trigger, CompoundTrigger):
            return len(self.fired) >= self.trigger.required
        if len(self.fired) < len(self.trigger.triggers):
            return False
        return sorted(self.fired, key=self._order) == list(range(len(self.trigger.triggers)))


def _child_path(path: str, index: int) -> str:
    return f"{path}.{index}" if path else str(index)


def evaluator_for(trigger: Trigger, path: str = "") -> Evaluator:
    """A fresh evaluator for any trigger."""
    if isinstance(trigger, EventTrigger):
        return EventTriggerEvaluator(trigger, path)
    if isinstance(trigger, CompoundTrigger | SequenceTrigger):
        return CompositeEvaluator(trigger, path)
    raise TypeError(f"no evaluator for {type(trigger).__name__}")


def restore_evaluator(trigger: Trigger, state: dict[str, Any], path: str = "") -> Evaluator:
    """An evaluator for `trigger` resumed from a saved `to_state()`."""
    if isinstance(trigger, EventTrigger):
        return EventTriggerEvaluator.from_state(trigger, state, path)
    if isinstance(trigger, CompoundTrigger | SequenceTrigger):
        return CompositeEvaluator.from_state(trigger, state, path)
    raise TypeError(f"no evaluator for {type(trigger).__name__}")
