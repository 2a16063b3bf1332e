"""Run-state events and related resources as stored (compact) and as read (in full).

What is derivable is not stored. A run's related resources are kept on its record in a
short form, and its state events are kept on the event stream in a short form; readers get
the full shapes back (`expand_related`, `entry_text`), byte for byte what
`tasks_core.events.run_events` documents. This took a no-op run's Redis memory from about
2.8 KB to well under half of that (bench/tasks_alone.py prints the figure).

Related resources (the record's ``related`` field): a resource whose id is
``tasks-core.<role>.<rest>`` with exactly the keys id and role is stored as the string
``"<role>.<rest>"`` (its role is the id's first segment: ``task``, ``flow``, ``flow-run``,
``deployment``, ``tag``); any other resource stays a JSON object. A plain task's
``[{"tasks-core.resource.id": "tasks-core.task.add", "tasks-core.resource.role": "task"}]``
is stored as ``["task.add"]``, so the record stays within Redis's listpack encoding
(``hash-max-listpack-value``, 64 bytes by default), about a third of a hashtable's memory.

Run-state events (stream entries with one field ``run``, written by store/run_event.lua;
events from `emit_event` keep their one field ``event``, the JSON as sent): a JSON array
``[id, at, kind, run_id, name, related, from_state, from_type, to_state, to_type,
validated_state, follows]`` (``related`` as stored on the record, ``validated_state`` the
JSON object, or null when it is derivable: name and type, and an empty message after a
transition; the ``from_*`` and ``follows`` values null when there are none).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["compact_related", "entry_text", "expand_related", "expand_run_event"]

_ID = "tasks-core.resource.id"
_ROLE = "tasks-core.resource.role"
_OURS = "tasks-core."


def compact_related(related: Sequence[Mapping[str, str]]) -> list[str | dict[str, str]]:
    """The stored form of a run's related resources (see the module docstring).

    >>> compact_related([{"tasks-core.resource.id": "tasks-core.task.add",
    ...                   "tasks-core.resource.role": "task"}])
    ['task.add']
    """
    out: list[str | dict[str, str]] = []
    for resource in related:
        rid, role = resource.get(_ID, ""), resource.get(_ROLE, "")
        if (len(resource) == 2 and rid.startswith(_OURS) and role
                and rid[len(_OURS):].startswith(role + ".")):
            out.append(rid[len(_OURS):])
        else:
            out.append(dict(resource))
    return out


def expand_related(stored: Sequence[Any] | None) -> list[dict[str, str]]:
    """The full related resources from their stored form (objects pass through, so records
    written in full read the same).

    >>> expand_related(["task.add"])
    [{'tasks-core.resource.id': 'tasks-core.task.add', 'tasks-core.resource.role': 'task'}]
    """
    out: list[dict[str, str]] = []
    for item in stored or []:
        if isinstance(item, str):
            out.append({_ID: _OURS + item, _ROLE: item.partition(".")[0]})
        else:
            out.append({str(k): str(v) for k, v in dict(item).items()})
    return out


def expand_run_event(text: str) -> str:
    """The full JSON text of a run-state event from its stored array (key order and shape
    as `tasks_core.events.run_events` documents).

    Raises:
        ValueError: `text` is not such an array.
    """
    parts = json.loads(text)
    if not isinstance(parts, list) or len(parts) != 12:
        raise ValueError(f"not a stored run event: {text[:200]!r}")
    (event_id, at, kind, run_id, name, related, from_state, from_type, to_state, to_type,
     validated, follows) = parts
    initial = None if from_state is None else {"name": from_state, "type": from_type or ""}
    if validated is None:  # derivable: a creation's has no message, a transition's is empty
        validated = ({"name": to_state, "type": to_type} if from_state is None
                     else {"name": to_state, "type": to_type, "message": ""})
    event = {
        "id": event_id, "occurred": at, "event": f"tasks-core.{kind}-run.{to_state}",
        "resource": {_ID: f"tasks-core.{kind}-run.{run_id}",
                     "tasks-core.resource.name": name or "",
                     "tasks-core.state-name": to_state, "tasks-core.state-type": to_type},
        "related": expand_related(related), "received": at, "follows": follows,
        "payload": {"intended": {"from": from_state, "to": to_state},
                    "initial_state": initial, "validated_state": validated},
    }
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def entry_text(fields: Mapping[str, Any] | None) -> str | None:
    """The event JSON of one event-stream entry's fields: ``event`` as stored, or ``run``
    expanded; None when the entry has neither (or was trimmed: no fields)."""
    if not fields:
        return None
    text = fields.get("event")
    if text is not None:
        return str(text)
    compact = fields.get("run")
    return None if compact is None else expand_run_event(str(compact))
