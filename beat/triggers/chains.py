"""Causal chains of automation firings: how loops are found and stopped.

A run an automation started records the firing (`RunRecord.triggered_by`); each firing's
chain is kept in Redis (`EngineStore.save_firing`). When an event about such a run (its
resource, or a related ``flow-run``) fires an automation, the new firing's chain is the run's
firing's chain plus one link, so the course's dep-trigger (every completed flow run starts
the downstream deployment, whose own completion is a completed flow run) makes a chain
1, 2, 3, ... A chain longer than ``automation_max_chain_depth`` is stopped.

A link is JSON ``{"automation_id", "automation": <name>, "event_id", "event": <name>,
"firing_id"}``.
"""

from __future__ import annotations

from typing import Any

from tasks_core.errors import TasksCoreError
from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.actions.targets import infer_target
from tasks_core.events.schema import Event
from tasks_core.events.triggers import Firing
from tasks_core.process_runtime import Runtime

__all__ = ["chain_of", "link"]


def link(automation_id: str, automation_name: str, firing: Firing) -> dict[str, Any]:
    """One link of a chain: this automation fired on this event."""
    event = firing.event
    return {"automation_id": automation_id, "automation": automation_name,
            "event_id": event.id if event else None, "event": event.event if event else None,
            "firing_id": firing.id}


def _parent_firing(rt: Runtime, event: Event) -> str | None:
    """The key (``<automation id>:<firing id>``) of the firing that started the flow run
    `event` is about, if an automation started it."""
    try:
        run_id = infer_target(event, "flow-run", action="loop check")
    except ActionFailed:
        return None
    try:
        record = rt.store.get(run_id)
    except TasksCoreError:  # expired or unknown: no known cause
        return None
    by = record.triggered_by
    if by is None or by.firing_id is None:
        return None
    return f"{by.automation_id}:{by.firing_id}"


def chain_of(rt: Runtime, automation_id: str, automation_name: str,
             firing: Firing) -> list[dict[str, Any]]:
    """The causal chain ending with this firing (oldest link first; length = depth)."""
    parent: list[dict[str, Any]] = []
    if firing.event is not None:
        parent_id = _parent_firing(rt, firing.event)
        record = rt.engine.firing(parent_id) if parent_id else None
        if record is not None:
            parent = list(record.get("chain", []))
    return [*parent, link(automation_id, automation_name, firing)]
