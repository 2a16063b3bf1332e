"""Evaluating an `EventTrigger`: events and clock ticks in, `Firing`s out (pure).

Time is the event's ``occurred`` for an event and the injected ``now`` for a tick (aware
datetimes). State is kept per bucket (one per distinct ``for_each`` value tuple) and is
JSON (`to_state` / `from_state`), so the engine can persist it and resume after a crash.

Windows are half-open, ``[start, start + within)``.

Reactive, no ``after``: fires when ``threshold`` counted events fall within one span of
``within`` (a sliding window; ``within`` 0: no time limit, every ``threshold``-th event
fires, so threshold 1 fires on each event, in whatever order events arrive). Firing
consumes the events counted: with a window, an event older than the bucket's last firing
is ignored. `tick` forgets buckets nothing can count in any more, so state stays small.

Reactive with ``after``: an ``after`` event opens a window (it does not count itself);
expected events in it count; reaching ``threshold`` fires and closes it; an expired window
closes without firing. An event that both opens and counts (a heartbeat in ``after`` and
``expect``) counts in the open window, then opens the next one.

Proactive: a window opens on an ``after`` event or, without ``after``, on the first tick
(no ``for_each``) or the first expected event of a bucket (which counts); it fires at its
end when fewer than ``threshold`` events came (``fired_at`` = the window's end, exactly).
Without ``after`` and ``for_each`` the next window starts at the end of the last (or at the
tick, if the engine was away longer than a window), so a silence fires once per window.
A ``for_each`` bucket that fired is dropped until an event names it again: one firing
per silence of that value, not one per window forever (Prefect keeps rolling it).
`next_deadline` says when to tick next.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tasks_core.events.schema import Event
from tasks_core.events.triggers.firing import MAX_EVENT_IDS, Firing
from tasks_core.events.triggers.models import EventTrigger

__all__ = ["EventTriggerEvaluator", "Window"]


@dataclass
class Window:
    """A bucket's state: its open window (if any), counted events, last event seen."""

    start: datetime | None = None
    end: datetime | None = None
    times: list[datetime] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    last: Event | None = None
    horizon: datetime | None = None  # events before this were consumed by a firing

    def to_json(self) -> dict[str, Any]:
        """The window as JSON."""
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None
        return {"start": iso(self.start), "end": iso(self.end),
                "times": [t.isoformat() for t in self.times], "ids": self.ids,
                "last": self.last.model_dump(mode="json") if self.last else None,
                "horizon": iso(self.horizon)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Window:
        """A window from `to_json`'s output."""
        def dt(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None
        return cls(start=dt(data["start"]), end=dt(data["end"]),
                   times=[datetime.fromisoformat(t) for t in data["times"]],
                   ids=list(data["ids"]),
                   last=Event.model_validate(data["last"]) if data["last"] else None,
                   horizon=dt(data["horizon"]))

    def add(self, event: Event) -> None:
        """Count `event`, keeping times sorted (events may arrive slightly out of order)."""
        at = bisect.bisect_right(self.times, event.occurred)
        self.times.insert(at, event.occurred)
        self.ids.insert(at, event.id)
        self.last = event


def _drop_before(window: Window, oldest: datetime) -> None:
    """Forget counted events at or before `oldest` (outside a half-open window)."""
    while window.times and window.times[0] <= oldest:
        window.times.pop(0)
        window.ids.pop(0)


class EventTriggerEvaluator:
    """The state machine of one `EventTrigger` (all its ``for_each`` buckets).

    Call `tick(now)` when the trigger is loaded (it opens the first window of a Proactive
    trigger without ``after`` or ``for_each``), then at `next_deadline()` and whenever
    convenient; `handle` each event the trigger's `Matcher` may cover, in stream order.

    Args:
        trigger: the trigger.
        path: its place in a trigger tree ("" for a root), copied into each `Firing`.
    """

    def __init__(self, trigger: EventTrigger, path: str = "") -> None:
        self.trigger = trigger
        self.path = path
        self.buckets: dict[tuple[str, ...], Window] = {}
        self.started = False

    # -- inputs ---------------------------------------------------------------------------

    def handle(self, event: Event) -> list[Firing]:
        """Take one event; the firings it causes (usually none)."""
        matcher = self.trigger.matcher
        if not matcher.covers(event):
            return []
        key = matcher.bucket_key(event)
        opens, counts = matcher.starts_after(event.event), matcher.expects(event.event)
        firings = self._close_expired(key, event.occurred)
        window = self.buckets.get(key)
        if self.trigger.posture == "Reactive":
            firings += self._reactive(key, window, event, opens, counts)
        else:
            firings += self._proactive(key, window, event, opens, counts)
        return firings

    def tick(self, now: datetime) -> list[Firing]:
        """Close the windows that ended by `now`; the Proactive firings that gives."""
        if not self.started:
            self.started = True
            if self.trigger.posture == "Proactive" and not self.trigger.after \
                    and not self.trigger.for_each and () not in self.buckets:
                self.buckets[()] = self._open(now)
        firings: list[Firing] = []
        for key in list(self.buckets):
            firings += self._close_expired(key, now)
        if self.trigger.posture == "Reactive" and not self.trigger.after:
            self._forget_stale(now)
        return firings

    def next_deadline(self) -> datetime | None:
        """When the next Proactive window ends (None: nothing to wait for)."""
        if self.trigger.posture != "Proactive":
            return None
        ends = [w.end for w in self.buckets.values() if w.end is not None]
        return min(ends, default=None)

    # -- state ----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """The evaluator's state as JSON (buckets keyed by their JSON-encoded key)."""
        return {"started": self.started,
                "buckets": {json.dumps(list(k)): w.to_json() for k, w in self.buckets.items()}}

    @classmethod
    def from_state(cls, trigger: EventTrigger, state: dict[str, Any],
                   path: str = "") -> EventTriggerEvaluator:
        """An evaluator resumed from `to_state`'s output."""
        evaluator = cls(trigger, path)
        evaluator.started = bool(state.get("started"))
        evaluator.buckets = {tuple(json.loads(k)): Window.from_json(w)
                             for k, w in state.get("buckets", {}).items()}
        return evaluator

    # -- the postures ---------------------------------------------------------------------

    def _within(self) -> timedelta | None:
        return self.trigger.within if self.trigger.within else None

    def _open(self, start: datetime, last: Event | None = None) -> Window:
        within = self._within()
        return Window(start=start, end=start + within if within else None, last=last)

    def _reactive(self, key: tuple[str, ...], window: Window | None, event: Event,
                  opens: bool, counts: bool) -> list[Firing]:
        firings: list[Firing] = []
        if self.trigger.after:
            if counts and window is not None and window.start is not None \
                    and event.occurred >= window.start:
                window.add(event)
                if len(window.times) >= self.trigger.threshold:
                    firings.append(self._fire(key, window, event.occurred, event))
                    del self.buckets[key]
            if opens and key not in self.buckets:
                self.buckets[key] = self._open(event.occurred, event)
            return firings
        if not counts:
            return firings
        window = window or self.buckets.setdefault(key, Window())
        if window.horizon is not None and event.occurred < window.horizon:
            return firings  # late: its span was consumed by an earlier firing
        window.add(event)
        within = self._within()
        if within is not None:
            _drop_before(window, window.times[-1] - within)
        if len(window.times) >= self.trigger.threshold:
            firings.append(self._fire(key, window, event.occurred, event))
            if within is None:
                del self.buckets[key]
            else:
                self.buckets[key] = Window(horizon=window.times[-1])
        return firings

    def _forget_stale(self, now: datetime) -> None:
        within = self._within()
        if within is None:
            return  # without a window, counts wait for the next event however long
        for key, window in list(self.buckets.items()):
            _drop_before(window, now - within)
            if not window.times and (window.horizon is None or window.horizon <= now - within):
                del self.buckets[key]

    def _proactive(self, key: tuple[str, ...], window: Window | None, event: Event,
                   opens: bool, counts: bool) -> list[Firing]:
        if window is None and counts and not self.trigger.after:
            window = self.buckets[key] = self._open(event.occurred)
        if counts and window is not None and window.start is not None \
                and event.occurred >= window.start:
            window.add(event)
            if self.trigger.after and len(window.times) >= self.trigger.threshold:
                del self.buckets[key]  # satisfied: nothing to fire; wait for the next after
        if opens and key not in self.buckets:
            self.buckets[key] = self._open(event.occurred, event)
        return []

    def _close_expired(self, key: tuple[str, ...], now: datetime) -> list[Firing]:
        window = self.buckets.get(key)
        if window is None or window.end is None or now < window.end:
            return []
        firings: list[Firing] = []
        end = window.end
        if self.trigger.posture == "Proactive":
            if len(window.times) < self.trigger.threshold:
                firings.append(self._fire(key, window, end, window.last))
            if not self.trigger.after and not (firings and key):
                within = self.trigger.within
                self.buckets[key] = self._open(end if now < end + within else now)
                return firings
        del self.buckets[key]
        return firings

    def _fire(self, key: tuple[str, ...], window: Window, at: datetime,
              event: Event | None) -> Firing:
        labels = dict(zip(self.trigger.matcher.for_each, key, strict=True))
        return Firing.make(trigger=self.path, fired_at=at, labels=labels,
                           count=len(window.times), event=event,
                           event_ids=window.ids[-MAX_EVENT_IDS:])
