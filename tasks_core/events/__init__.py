"""Events: the shape every happening takes on the one Redis stream, `emit_event`, and the
triggers that react to events.

    from tasks_core.events import emit_event      # was: from prefect.events import emit_event

Modules: `schema` (Event, limits), `spelling` (Prefect's spellings in, tasks-core's stored),
`emit` (emit_event), `client` (the buffered per-process writer), `feed` (reading the stream:
filters, newest first, following), `run_events` (run-state events, built in Lua),
`internal` (deployment and work-pool events), `triggers` (trigger models, matching,
evaluation, the prefix index, explain).
"""

from tasks_core.errors import EventError
from tasks_core.events.emit import build_event, emit_event
from tasks_core.events.feed import EventFilter, follow, list_events
from tasks_core.events.schema import Event, EventLimits, RelatedResource, Resource
from tasks_core.events.triggers import (
    CompoundTrigger,
    DeploymentCompoundTrigger,
    DeploymentEventTrigger,
    DeploymentSequenceTrigger,
    EventTrigger,
    SequenceTrigger,
    TriggerError,
)

__all__ = [
    "CompoundTrigger",
    "DeploymentCompoundTrigger",
    "DeploymentEventTrigger",
    "DeploymentSequenceTrigger",
    "Event",
    "EventError",
    "EventFilter",
    "EventLimits",
    "EventTrigger",
    "RelatedResource",
    "Resource",
    "SequenceTrigger",
    "TriggerError",
    "build_event",
    "emit_event",
    "follow",
    "list_events",
]
