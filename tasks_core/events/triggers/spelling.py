"""Prefect's spellings, accepted where triggers are given and stored in tasks-core's.

Code ported from Prefect writes ``prefect.resource.id``, ``prefect.flow-run.Completed`` and
``prefect.flow.*``; tasks-core stores and matches ``tasks-core.resource.id``,
``tasks-core.flow-run.Completed`` and ``tasks-core.flow.*``. The rule is one literal prefix:
``prefect.`` at the start of a label key, of an event name (or name glob), or of a resource
id (or id glob) becomes ``tasks-core.``; a leading ``!`` (negation) is kept in front.
``prefect-cloud.`` and everything else is left alone. The rule itself is
`tasks_core.events.spelling` (events and filters); this module adds what triggers need on
top: a leading ``!`` and ``related:<role>:<label>`` keys.

    >>> label_key("prefect.resource.role")
    'tasks-core.resource.role'
    >>> event_name("!prefect.flow-run.*")
    '!tasks-core.flow-run.*'
    >>> for_each_label("related:flow:prefect.resource.id")
    'related:flow:tasks-core.resource.id'
"""

from __future__ import annotations

from tasks_core.events.schema import RESOURCE_ID
from tasks_core.events.spelling import normalize_label_key, normalize_name

__all__ = ["event_name", "for_each_label", "label_key", "label_value"]

RELATED = "related:"


def _swap(text: str) -> str:
    negated = text.startswith("!")
    body = normalize_name(text[1:] if negated else text)
    return ("!" if negated else "") + body


def label_key(key: str) -> str:
    """A label key in tasks-core's spelling (``prefect.x`` -> ``tasks-core.x``)."""
    return normalize_label_key(key)


def event_name(name: str) -> str:
    """An event name or name glob in tasks-core's spelling; a leading ``!`` is kept."""
    return _swap(name)


def label_value(key: str, value: str) -> str:
    """A label value (or value glob) in tasks-core's spelling.

    Only resource ids carry the ``prefect.`` namespace (``prefect.flow.*``), so only the
    values of the id label (`key` already in tasks-core's spelling) are rewritten.
    """
    return _swap(value) if key == RESOURCE_ID else value


def for_each_label(label: str) -> str:
    """A ``for_each`` label, plain or ``related:<role>:<label>``, in tasks-core's spelling."""
    if label.startswith(RELATED):
        role, sep, key = label[len(RELATED):].partition(":")
        if sep:
            return f"{RELATED}{role}:{label_key(key)}"
    return label_key(label)
