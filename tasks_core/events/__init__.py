"""Events: the shape every happening takes on the one Redis stream, `emit_event`, and the
triggers that react to events.

    from tasks_core.events import emit_event      # was: from prefect.events import emit_event

Modules: `schema` (Event, limits), `spelling` (Prefect's spellings in, tasks-core's stored),
`emit` (emit_event), `client` (the buffered per-process writer), `feed` (reading the stream:
filters, newest first, following), `run_events` (run-state events, built in Lua),
`internal` (deployment and work-pool events), `triggers` (trigger models, matching,
evaluation, the prefix index, explain).

Names are imported when first read (PEP 562 ``__getattr__``): emitting or reading events
does not load the trigger models (pydantic), which only automations need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as mypy and editors see them; read lazily at run time
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

_PUBLIC: dict[str, str] = {
    "EventError": "tasks_core.errors",
    **dict.fromkeys(["build_event", "emit_event"], "tasks_core.events.emit"),
    **dict.fromkeys(["EventFilter", "follow", "list_events"], "tasks_core.events.feed"),
    **dict.fromkeys(["Event", "EventLimits", "RelatedResource", "Resource"],
                    "tasks_core.events.schema"),
    **dict.fromkeys(["CompoundTrigger", "DeploymentCompoundTrigger", "DeploymentEventTrigger",
                     "DeploymentSequenceTrigger", "EventTrigger", "SequenceTrigger",
                     "TriggerError"], "tasks_core.events.triggers"),
}
"""Each public name (`__all__`) and the module it is read from on first use."""


def __getattr__(name: str) -> Any:
    """A public name (`_PUBLIC`), imported from its module on first read and kept."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'tasks_core.events' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's attributes and every public name, imported or not."""
    return sorted(set(globals()) | set(__all__))
