"""Triggers: when an automation fires, as pure data and pure logic (no Redis, no clock).

    spelling.py    Prefect's spellings -> tasks-core's (label keys, event names, ids)
    globs.py       compiled, checked globs (fnmatchcase rules, a leading ! negates)
    specs.py       resource specs: match / match_related, for_each label lookup
    matching.py    Matcher: does one event concern one trigger
    models.py      EventTrigger, CompoundTrigger, SequenceTrigger, TriggerError
    deployment.py  DeploymentEventTrigger, DeploymentCompoundTrigger, DeploymentSequenceTrigger
    evaluation.py  evaluators: events and ticks in (time injected), Firings out; JSON state
    index.py       TriggerIndex: event name -> candidate triggers, by literal prefix
    explain.py     replay events through a trigger: when it fires, or which condition failed
"""

from tasks_core.events.triggers.deployment import (
    DeploymentCompoundTrigger,
    DeploymentEventTrigger,
    DeploymentSequenceTrigger,
)
from tasks_core.events.triggers.models import (
    CompoundTrigger,
    EventTrigger,
    SequenceTrigger,
    TriggerError,
    TriggerTypes,
)

__all__ = [
    "CompoundTrigger",
    "DeploymentCompoundTrigger",
    "DeploymentEventTrigger",
    "DeploymentSequenceTrigger",
    "EventTrigger",
    "SequenceTrigger",
    "TriggerError",
    "TriggerTypes",
]
