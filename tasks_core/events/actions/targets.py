"""Targets inferred from the triggering event (pure, no Redis).

An action with ``source="inferred"`` acts on the resource of a kind the event names: its
own resource first, then its related resources in order. Ids read::

    tasks-core.deployment.<id>     tasks-core.work-pool.<name>
    tasks-core.flow-run.<id>       tasks-core.work-queue.<pool>:<queue>
    tasks-core.automation.<id>

An event that names none fails the action with `ActionFailed`, saying which kind was
looked for and what the event does name.
"""

from __future__ import annotations

from typing import Literal

from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.schema import RESOURCE_ID, Event

__all__ = ["Kind", "infer_target", "resource_id"]

Kind = Literal["deployment", "flow-run", "work-pool", "work-queue", "automation"]


def resource_id(kind: Kind, key: str) -> str:
    """``tasks-core.<kind>.<key>``."""
    return f"tasks-core.{kind}.{key}"


def _key(kind: Kind, labels: dict[str, str]) -> str | None:
    prefix = f"tasks-core.{kind}."
    rid = labels.get(RESOURCE_ID, "")
    if not rid.startswith(prefix) or len(rid) == len(prefix):
        return None
    key = rid[len(prefix):]
    if kind in ("work-pool", "work-queue"):
        return key  # pool and queue names may hold a dot (`tasks_core.pool_names`)
    # other ids never hold a dot; `tasks-core.automation.<id>.action.0` is not one
    return None if "." in key else key


def infer_target(event: Event | None, kind: Kind, *, action: str) -> str:
    """The id (or name) of the `kind` of resource `event` names.

    Raises:
        ActionFailed: no event, or it names no such resource (the message says which
            resources it does name).
    """
    if event is None:
        raise ActionFailed(f"{action}: source='inferred' needs a triggering event naming a "
                           f"{kind}, and this firing has none (a Proactive trigger whose "
                           f"window saw no event); name the {kind} instead")
    for labels in [event.resource, *event.related]:
        key = _key(kind, labels)
        if key is not None:
            return key
    named = ", ".join([event.resource_id, *event.related_ids()][:6])
    raise ActionFailed(f"{action}: event {event.event!r} ({event.id}) names no {kind} to "
                       f"infer (it names {named}); name the {kind} in the action instead")
