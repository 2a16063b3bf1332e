"""Why a trigger did (not) fire: replay stored events through it, no actions run (pure).

`explain(trigger, events, start=, end=)` feeds the events, in ``occurred`` order, to a fresh
evaluator, ticking it at each deadline in between (so Proactive windows close on time),
and returns an `Explanation`: the firings it would have made and, when there are none,
the first condition that failed, checked in this order:

    event      no event's name matched ``expect`` / ``after``
    label      the primary resource: one label of ``match`` never matched (or no event
               matched all of them at once)
    related    a ``match_related`` spec: no related resource matched one of its labels
    after      no ``after`` event opened a window
    threshold  Reactive: never ``threshold`` events within ``within`` (the best count is
               given); Proactive: every window that closed got enough events
    window     Proactive: no window closed before the replay ended; composites: the
               children fired but never close enough together
    children   a composite: too few children fired (the first silent child's reason)
    order      a sequence: all children fired, never in order

``Explanation.render()`` is one line for the CLI.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from tasks_core.events.schema import Event
from tasks_core.events.triggers.composite import Evaluator, evaluator_for
from tasks_core.events.triggers.firing import Firing
from tasks_core.events.triggers.models import (
    AnyTrigger,
    CompoundTrigger,
    EventTrigger,
    SequenceTrigger,
)
from tasks_core.events.triggers.specs import CompiledSpec

__all__ = ["Condition", "Explanation", "Reason", "explain", "replay"]

Condition = Literal["event", "label", "related", "after", "threshold", "window", "children",
                    "order"]


@dataclass(frozen=True)
class Reason:
    """The condition that failed, where (trigger path), and the figures behind it."""

    condition: Condition
    message: str
    trigger: str = ""
    label: str | None = None
    got: int | None = None
    needed: int | None = None
    within: float | None = None


@dataclass(frozen=True)
class Explanation:
    """What a replay found: the firings, or the reason there were none."""

    firings: list[Firing]
    reason: Reason | None
    events: int
    start: datetime | None = None
    end: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def fired(self) -> bool:
        """Whether the trigger would have fired at least once."""
        return bool(self.firings)

    def render(self) -> str:
        """One line: when it would have fired, or which condition failed."""
        if self.firings:
            first = self.firings[0]
            on = f" on {first.event.event} ({first.event.id})" if first.event else ""
            times = "once" if len(self.firings) == 1 else f"{len(self.firings)} times"
            return f"would have fired {times}; first at {first.fired_at.isoformat()}{on}"
        assert self.reason is not None
        where = f" [trigger {self.reason.trigger}]" if self.reason.trigger else ""
        return f"never fired over {self.events} events: {self.reason.message}{where}"


def replay(trigger: AnyTrigger, events: Sequence[Event], *, start: datetime | None = None,
           end: datetime | None = None) -> list[Firing]:
    """The firings `trigger` would make over `events` from `start` to `end`."""
    ordered = sorted(events, key=lambda e: e.occurred)
    start = start or (ordered[0].occurred if ordered else None)
    end = end or (ordered[-1].occurred if ordered else None)
    evaluator = evaluator_for(trigger)
    firings: list[Firing] = []
    if start is not None:
        firings += evaluator.tick(start)
    for event in ordered:
        firings += _tick_until(evaluator, event.occurred)
        firings += evaluator.handle(event)
    if end is not None:
        firings += _tick_until(evaluator, end)
        firings += evaluator.tick(end)
    return firings


def _tick_until(evaluator: Evaluator, until: datetime) -> list[Firing]:
    firings: list[Firing] = []
    deadline = evaluator.next_deadline()
    while deadline is not None and deadline <= until:
        firings += evaluator.tick(deadline)
        following = evaluator.next_deadline()
        if following is not None and following <= deadline:
            break  # no progress: leave the rest to the final tick
        deadline = following
    return firings


def explain(trigger: AnyTrigger, events: Sequence[Event], *, start: datetime | None = None,
            end: datetime | None = None) -> Explanation:
    """Replay `events` through `trigger`; its firings, or why it never fired."""
    ordered = sorted(events, key=lambda e: e.occurred)
    start = start or (ordered[0].occurred if ordered else None)
    end = end or (ordered[-1].occurred if ordered else None)
    firings = replay(trigger, ordered, start=start, end=end)
    reason = None if firings else _why(trigger, ordered, "", start, end)
    return Explanation(firings, reason, len(ordered), start, end)


def _why(trigger: AnyTrigger, events: list[Event], path: str, start: datetime | None,
         end: datetime | None) -> Reason:
    if isinstance(trigger, EventTrigger):
        return _why_event(trigger, events, path, start, end)
    return _why_composite(trigger, events, path, start, end)


def _why_composite(trigger: CompoundTrigger | SequenceTrigger, events: list[Event],
                   path: str, start: datetime | None, end: datetime | None) -> Reason:
    silent: list[tuple[int, AnyTrigger]] = []
    for index, child in enumerate(trigger.triggers):
        if not replay(child, events, start=start, end=end):
            silent.append((index, child))
    needed = (trigger.required if isinstance(trigger, CompoundTrigger)
              else len(trigger.triggers))
    fired = len(trigger.triggers) - len(silent)
    if fired < needed:
        index, child = silent[0]
        inner = _why(child, events, _path(path, index), start, end)
        return Reason("children", f"{fired} of {needed} required triggers fired; trigger "
                      f"{_path(path, index)} did not: {inner.message}", path,
                      got=fired, needed=needed)
    within = trigger.window.total_seconds() if trigger.window else None
    if within is None:  # only a sequence can miss without a window: by its order
        return Reason("order", "every trigger fired, but never in their order", path)
    return Reason("window", f"the triggers fired, but never {needed} within {within:g} s "
                  "of each other" + (" in order" if isinstance(trigger, SequenceTrigger)
                                     else ""), path, got=fired, needed=needed, within=within)


def _path(path: str, index: int) -> str:
    return f"{path}.{index}" if path else str(index)


def _why_event(trigger: EventTrigger, events: list[Event], path: str,
               start: datetime | None, end: datetime | None) -> Reason:
    m = trigger.matcher
    named = [e for e in events if m.expects(e.event) or m.starts_after(e.event)]
    if not named:
        seen = ", ".join(n for n, _ in Counter(e.event for e in events).most_common(3))
        globs = sorted(trigger.expect | trigger.after)
        return Reason("event", f"no event named {globs} (saw {seen or 'no events'})", path)
    failure = _spec_failure(m.match, [[e.resource] for e in named], "label", path)
    if failure:
        return failure
    named = [e for e in named if m.match.matches(e.resource)]
    for spec in m.related:
        failure = _spec_failure(spec, [e.related for e in named], "related", path)
        if failure:
            return failure
    covered = [e for e in named if m.resources_match(e)]
    if trigger.after and not any(m.starts_after(e.event) for e in covered):
        return Reason("after", f"no {sorted(trigger.after)} event opened a window", path)
    counted = [e for e in covered if m.expects(e.event)]
    within = trigger.within.total_seconds()
    if trigger.posture == "Proactive":
        return _why_proactive(trigger, covered, path, start, end)
    best = _best_count(trigger, counted, covered)
    span = f"within {within:g} s" if within else "in all"
    return Reason("threshold", f"threshold not reached: got {best} of {trigger.threshold} "
                  f"matching events {span}", path, got=best, needed=trigger.threshold,
                  within=within)


def _spec_failure(spec: CompiledSpec, groups: list[Sequence[dict[str, str]]],
                  condition: Literal["label", "related"], path: str) -> Reason | None:
    if not spec.labels or any(spec.includes(g) for g in groups):
        return None
    whose = "resource" if condition == "label" else "related resource"
    for label, globs in spec.labels:
        values = [r.get(label) for g in groups for r in g]
        if not any(g.matches(v) for g in globs for v in values):
            seen = sorted({v for v in values if v is not None})[:3]
            return Reason(condition, f"label {label!r} of the {whose} never matched "
                          f"{[g.source for g in globs]} (seen: {seen or 'no such label'})",
                          path, label=label)
    wanted = {label: [g.source for g in globs] for label, globs in spec.labels}
    return Reason(condition, f"no {whose} matched all of {wanted} at once", path)


def _best_count(trigger: EventTrigger, counted: list[Event], covered: list[Event]) -> int:
    """The most expected events in one window (per for_each bucket), as counted."""
    m, within = trigger.matcher, trigger.within
    best = 0
    for key in {m.bucket_key(e) for e in counted}:
        times = [e.occurred for e in counted if m.bucket_key(e) == key]
        if trigger.after:
            opens = [e.occurred for e in covered if m.starts_after(e.event)
                     and m.bucket_key(e) == key]
            spans = [[t for t in times if o < t and (not within or t < o + within)]
                     for o in opens]
            best = max([best, *(len(s) for s in spans)])
        elif not within:
            best = max(best, len(times))
        else:
            best = max([best, *(sum(1 for u in times if t - within < u <= t) for t in times)])
    return best


def _why_proactive(trigger: EventTrigger, covered: list[Event], path: str,
                   start: datetime | None, end: datetime | None) -> Reason:
    within = trigger.within
    opened = start
    if trigger.after:
        opened = min(e.occurred for e in covered if trigger.matcher.starts_after(e.event))
    if opened is None or end is None or end - opened < within:
        length = (end - opened).total_seconds() if end and opened else 0.0
        return Reason("window", f"no window of {within.total_seconds():g} s closed before "
                      f"the replay ended ({length:g} s after the first opened)", path,
                      within=within.total_seconds())
    return Reason("threshold", f"every window of {within.total_seconds():g} s got at least "
                  f"{trigger.threshold} expected events", path, needed=trigger.threshold,
                  within=within.total_seconds())


