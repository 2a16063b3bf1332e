"""Test an automation against past events: replay a window of the stream through its
trigger (no action runs), as `tasks-core automation test` and ``POST
/api/automations/{name}/test`` do.

The events received from `start` to `end` (the newest `REPLAY_MAX` of them) go, oldest
first, through `tasks_core.events.triggers.explain`: the firings the trigger would have
made, or the first condition that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tasks_core.automations.model import AutomationError, AutomationModel
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.events.triggers import explain
from tasks_core.events.triggers.explain import Explanation

__all__ = ["REPLAY_MAX", "Replay", "replay_window"]

REPLAY_MAX = 100_000
"""Most events one replay reads (the newest of the window)."""


@dataclass(frozen=True)
class Replay:
    """What a replay found, and whether the window held more events than were read."""

    explanation: Explanation
    start: datetime
    end: datetime
    capped: bool


def replay_window(automation: AutomationModel, *, start: datetime, end: datetime,
                  max_events: int = REPLAY_MAX) -> Replay:
    """Replay the events received from `start` to `end` through the automation's trigger.

    The stream is read by the time events were received (written), so an event this
    process still buffers when `end` is taken is not in the window: a caller that emits
    events (the API server) flushes them before it takes `end` (`api.automations`).

    Raises:
        AutomationError: `end` is before `start`.
        StoreUnavailable: Redis is away.
    """
    from tasks_core.process_runtime import get_runtime

    if end < start:
        raise AutomationError(f"until ({end.isoformat()}) is before since "
                              f"({start.isoformat()})")
    newest = list_events(get_runtime().events, EventFilter(since=start, until=end),
                         limit=max_events)
    found = explain(automation.trigger, list(reversed(newest)), start=start, end=end)
    return Replay(found, start, end, capped=len(newest) == max_events)
