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
``[n, at_us, kind, run_id, name, related, from_state, to_state, validated_state, follows,
created_us]``: ``n`` the event's number in its run (1 for the creation; the same step writes
history entry n), ``at_us`` its time in integer microseconds since the Unix epoch,
``related`` as stored on the record, ``validated_state`` the JSON object or null when it is
derivable (name and type, and an empty message after a transition), ``from_state`` null for
a creation, ``follows`` null unless the event follows one that is not the run's previous
event (an automation's triggering event), ``created_us`` the run's creation time (null for
event 1, whose own time it is, and for records from before this form). Derived on read:
the id (`run_event_id`: a UUID from the run's id, its creation time and n, so the run's
previous event's id, which ``follows`` names, is known without storing it, and a run id
used again after its record expired gets other ids), the state types (from the names,
`tasks_core.states.state_type`) and the ISO 8601 times. Arrays of the older 12-item form
``[id, at, kind, run_id, name, related, from_state, from_type, to_state, to_type,
validated_state, follows]`` still read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from tasks_core.state_history import from_epoch_us
from tasks_core.states import StateName, state_type

__all__ = ["compact_related", "entry_text", "expand_related", "expand_run_event",
           "run_event_id"]

_RUN_EVENTS = uuid.UUID("7c1e4f2a-5b0d-4c8e-9a36-2f1d0e8b6a51")
"""The UUID namespace of run-state event ids (`run_event_id`)."""

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


def run_event_id(run_id: str, created_us: int | None, n: int) -> str:
    """The id of event number `n` (1: the creation) of the run `run_id` created at
    `created_us` (integer µs since the epoch; None: unknown, a record from before): a
    name-based UUID (version 5) of the three, so it is never stored and always the same.

    >>> run_event_id("r1", 5, 2) == run_event_id("r1", 5, 2) != run_event_id("r1", 5, 3)
    True
    """
    created = "" if created_us is None else str(created_us)
    return str(uuid.uuid5(_RUN_EVENTS, f"{run_id}/{created}/{n}"))


def _type(name: str) -> str:
    return state_type(StateName(name)).value


def expand_run_event(text: str) -> str:
    """The full JSON text of a run-state event from its stored array (key order and shape
    as `tasks_core.events.run_events` documents).

    Raises:
        ValueError: `text` is not such an array.
    """
    parts = json.loads(text)
    if not isinstance(parts, list) or len(parts) not in (11, 12):
        raise ValueError(f"not a stored run event: {text[:200]!r}")
    if len(parts) == 12:  # the older form: id, ISO times and types stored
        (event_id, at, kind, run_id, name, related, from_state, from_type, to_state, to_type,
         validated, follows) = parts
    else:
        (n, at_us, kind, run_id, name, related, from_state, to_state, validated,
         follows, created_us) = parts
        if (not isinstance(n, int) or not isinstance(at_us, int)
                or not isinstance(created_us, int | None)):
            raise ValueError(f"not a stored run event: {text[:200]!r}")
        if n == 1:
            created_us = at_us
        event_id = run_event_id(run_id, created_us, n)
        at = from_epoch_us(at_us).isoformat()
        from_type = None if from_state is None else _type(from_state)
        to_type = _type(to_state)
        if follows is None and n > 1:
            follows = run_event_id(run_id, created_us, n - 1)
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
