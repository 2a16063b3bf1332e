"""Events: the shape every happening takes on the one Redis stream, and the triggers that
react to them (`tasks_core.events.triggers`)."""

from tasks_core.events.schema import Event, RelatedResource, Resource
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
    "EventTrigger",
    "RelatedResource",
    "Resource",
    "SequenceTrigger",
    "TriggerError",
]
