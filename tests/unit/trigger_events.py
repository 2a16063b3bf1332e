"""Events for the trigger unit tests: built at a given second after a fixed origin."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tasks_core.events import Event

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_ids = itertools.count()


def at(seconds: float) -> datetime:
    """T0 plus `seconds`."""
    return T0 + timedelta(seconds=seconds)


def ev(name: str, seconds: float, resource: str = "acme.thing.1", *,
       related: list[dict[str, str]] | None = None, **labels: str) -> Event:
    """An event `name` at `seconds`, on resource id `resource` with extra `labels`."""
    return Event(id=f"e{next(_ids)}", occurred=at(seconds), event=name,
                 resource={"tasks-core.resource.id": resource, **labels},
                 related=related or [])


def flow_completed(seconds: float, flow: str = "upstream") -> Event:
    """A run-state event as the Lua transition writes it: a flow run Completed."""
    return ev("tasks-core.flow-run.Completed", seconds, "tasks-core.flow-run.r1",
              related=[{"tasks-core.resource.id": f"tasks-core.flow.{flow}",
                        "tasks-core.resource.role": "flow"}])
