"""Triggers: when an automation fires, as pure data and pure logic (no Redis, no clock).

    spelling.py    Prefect's spellings -> tasks-core's (label keys, event names, ids)
    globs.py       compiled, checked globs (fnmatchcase rules, a leading ! negates)
    specs.py       resource specs: match / match_related, for_each label lookup
    matching.py    Matcher: does one event concern one trigger
    models.py      EventTrigger, CompoundTrigger, SequenceTrigger, TriggerError
    deployment.py  DeploymentEventTrigger, DeploymentCompoundTrigger, DeploymentSequenceTrigger
    firing.py      Firing: what fired, with a deterministic id (idempotency across crashes)
    evaluation.py  EventTriggerEvaluator: events and ticks in (time injected), Firings out
    composite.py   CompositeEvaluator (compound, sequence); evaluator_for / restore_evaluator
    index.py       TriggerIndex: event name -> candidate triggers, by literal prefix
    explain.py     replay events through a trigger: when it fires, or which condition failed
"""

from tasks_core.events.triggers.composite import (
    CompositeEvaluator,
    Evaluator,
    evaluator_for,
    restore_evaluator,
)
from tasks_core.events.triggers.deployment import (
    DeploymentCompoundTrigger,
    DeploymentEventTrigger,
    DeploymentSequenceTrigger,
)
from tasks_core.events.triggers.evaluation import EventTriggerEvaluator
from tasks_core.events.triggers.explain import Explanation, Reason, explain, replay
from tasks_core.events.triggers.firing import Firing
from tasks_core.events.triggers.index import TriggerIndex
from tasks_core.events.triggers.models import (
    AnyTrigger,
    CompoundTrigger,
    EventTrigger,
    SequenceTrigger,
    TriggerError,
    TriggerTypes,
    parse_trigger,
)

__all__ = [
    "AnyTrigger",
    "CompositeEvaluator",
    "CompoundTrigger",
    "DeploymentCompoundTrigger",
    "DeploymentEventTrigger",
    "DeploymentSequenceTrigger",
    "Evaluator",
    "EventTrigger",
    "EventTriggerEvaluator",
    "Explanation",
    "Firing",
    "Reason",
    "SequenceTrigger",
    "TriggerError",
    "TriggerIndex",
    "TriggerTypes",
    "evaluator_for",
    "explain",
    "parse_trigger",
    "replay",
    "restore_evaluator",
]
