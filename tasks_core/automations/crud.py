"""Storing automations: `Automation` (the model plus create, update, delete, read, ls) and
the same as functions, with pause and resume (`set_enabled`).

Each change goes through `tasks_core.store.automations.AutomationStore` (record, name index,
owner index and a change message on ``p:automations:changes``, in one atomic call), then
emits an event through the process's buffered client::

    tasks-core.automation.created | updated | deleted
        resource  {"tasks-core.resource.id": "tasks-core.automation.<id>",
                   "tasks-core.resource.name": "<name>"}
        related   the owning deployment (role "deployment"), when it has one
        payload   updated: {"updated_fields": [...], "updates": {field: {"from", "to"}}}

The change message (`tasks_core.store.automations.CHANGE_SHAPE`) is what the trigger
engine listens to, so a change takes effect there without polling.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from tasks_core.automations.model import AutomationError, AutomationModel, AutomationNotFound
from tasks_core.automations.targets import check_targets
from tasks_core.events.emit import emit_event
from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event

if TYPE_CHECKING:
    from tasks_core.store.automations import AutomationStore

__all__ = ["CHANGED_FIELDS", "Automation", "automation_event", "automation_resource",
           "create_automation", "create_automations", "delete_automation",
           "list_automations", "read_automation", "set_enabled", "update_automation"]

Op = Literal["created", "updated", "deleted"]

CHANGED_FIELDS = ("name", "description", "enabled", "tags", "trigger", "actions")
"""Fields whose changes an ``updated`` event lists."""

SHOWN_MATCHES = 10
"""Most ids an ambiguous-prefix error lists."""


class Automation(AutomationModel):
    """An automation that stores itself: `AutomationModel`'s fields and checks, and
    `create`, `update`, `delete`, `read`, `ls`."""

    def create(self) -> Automation:
        """Store it as a new automation; the stored copy (``created``/``updated`` set).

        Raises:
            AutomationError: its name is taken, or an action is refused.
        """
        return create_automation(self)

    def update(self) -> Automation:
        """Store its changes (found by ``id``); the stored copy.

        Raises:
            AutomationNotFound: no automation has its id.
            AutomationError: the new name is another automation's, or an action is refused.
        """
        return update_automation(self)

    def delete(self) -> bool:
        """Delete it; whether it existed."""
        return delete_automation(self.id)

    @classmethod
    def read(cls, name_or_id: str) -> Automation:
        """The automation of that name, id, or unique start of an id.

        Raises:
            AutomationNotFound: none matches (close names are suggested).
            AutomationError: empty, or several ids start with `name_or_id` (listed).
        """
        return read_automation(name_or_id)

    @classmethod
    def ls(cls) -> list[Automation]:
        """Every automation, by name."""
        return list_automations()


def _store() -> AutomationStore:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().automations


def automation_resource(automation: Automation) -> dict[str, str]:
    """The resource labels of an automation."""
    return {RESOURCE_ID: f"tasks-core.automation.{automation.id}",
            RESOURCE_NAME: automation.name}


def automation_event(automation: Automation, op: Op,
                     payload: dict[str, Any] | None = None) -> Event:
    """Emit ``tasks-core.automation.<op>`` for `automation`."""
    related: list[Mapping[str, str]] = []
    if automation.owner_deployment_id:
        related.append({RESOURCE_ID: f"tasks-core.deployment.{automation.owner_deployment_id}",
                        RESOURCE_ROLE: "deployment"})
    return emit_event(f"tasks-core.automation.{op}", automation_resource(automation),
                      payload=payload, related=related)


def _message(automation: Automation, op: Op) -> str:
    return json.dumps({"op": op, "id": automation.id, "name": automation.name,
                       "enabled": automation.enabled,
                       "owner_deployment_id": automation.owner_deployment_id})


def _changes(before: Automation, after: Automation) -> dict[str, Any]:
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    updates = {f: {"from": old[f], "to": new[f]} for f in CHANGED_FIELDS if old[f] != new[f]}
    return {"updated_fields": sorted(updates), "updates": updates}


def _checked(automation: AutomationModel, **changes: Any) -> Automation:
    """`automation` with `changes`, validated again (fields may have been assigned since it
    was built)."""
    return Automation.model_validate({**automation.model_dump(mode="json"), **changes})


def _taken(name: str, holder: str | None) -> AutomationError:
    return AutomationError(f"automation name {name!r} is taken (by automation {holder}); "
                           "choose another name, or update that automation")


def create_automation(automation: AutomationModel, *, check: bool = True) -> Automation:
    """Store `automation` as a new one; the stored copy. Emits ``...automation.created``.

    Args:
        check: look up the targets its actions name (`targets.check_targets`); False only
            for actions built to name what is being saved (a deployment's own triggers).

    Raises:
        AutomationError: its name (or id) is taken, or an action names a target that does
            not exist.
    """
    now = datetime.now(UTC)
    saved = _checked(automation, created=now, updated=now)
    if check:
        check_targets(saved, read_automation)
    outcome, holder = _store().save("create", saved.id, saved.name, saved.model_dump_json(),
                                    owner=saved.owner_deployment_id,
                                    message=_message(saved, "created"))
    if outcome != "ok":
        raise _taken(saved.name, holder)
    automation_event(saved, "created")
    return saved


def create_automations(automations: Sequence[AutomationModel]) -> list[Automation]:
    """Create several automations: every one is checked first (distinct names, names not
    taken, targets exist), so one refused creates none; the stored copies.

    Raises:
        AutomationError: naming the automation and what is wrong.
    """
    names = [a.name for a in automations]
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise AutomationError(f"automation name {twice[0]!r} is given twice")
    store = _store()
    for automation in automations:
        if (holder := store.id_of(automation.name)) is not None:
            raise _taken(automation.name, holder)
        check_targets(automation, read_automation)
    return [create_automation(a, check=False) for a in automations]


def update_automation(automation: AutomationModel) -> Automation:
    """Store the changes of `automation` (found by id); the stored copy. Emits
    ``...automation.updated`` naming the changed fields (nothing when none changed).

    Raises:
        AutomationNotFound: no automation has its id.
        AutomationError: its new name is another automation's, or an action names a target
            that does not exist.
    """
    store = _store()
    text = store.get(automation.id)
    if text is None:
        raise AutomationNotFound(f"automation {automation.id} not found (deleted?); "
                                 "create it instead")
    before = Automation.model_validate_json(text)
    saved = _checked(automation, created=before.created,
                     owner_deployment_id=before.owner_deployment_id,
                     updated=datetime.now(UTC))
    changes = _changes(before, saved)
    if not changes["updated_fields"]:
        return before
    if "actions" in changes["updated_fields"]:
        check_targets(saved, read_automation)
    outcome, holder = store.save("update", saved.id, saved.name, saved.model_dump_json(),
                                 owner=saved.owner_deployment_id,
                                 message=_message(saved, "updated"))
    if outcome == "duplicate":
        raise _taken(saved.name, holder)
    if outcome == "missing":
        raise AutomationNotFound(f"automation {saved.id} not found (deleted meanwhile)")
    automation_event(saved, "updated", changes)
    return saved


def delete_automation(name_or_id: str) -> bool:
    """Delete an automation by name, id or unique id prefix; whether there was one.
    Emits ``...automation.deleted``."""
    try:
        automation = read_automation(name_or_id)
    except AutomationNotFound:
        return False
    deleted = _store().delete(automation.id, owner=automation.owner_deployment_id,
                              message=_message(automation, "deleted"))
    if deleted:
        automation_event(automation, "deleted")
    return deleted


def set_enabled(name_or_id: str, enabled: bool) -> tuple[Automation, bool]:
    """Resume (`enabled`) or pause an automation; it and whether that changed anything."""
    automation = read_automation(name_or_id)
    if automation.enabled == enabled:
        return automation, False
    return update_automation(automation.model_copy(update={"enabled": enabled})), True


def read_automation(name_or_id: str) -> Automation:
    """The automation of that name, id, or unique start of an id.

    Raises:
        AutomationNotFound: none matches; close names are suggested.
        AutomationError: empty, or several ids start with it (listed).
    """
    key = name_or_id.strip()
    if not key:
        raise AutomationError("empty automation name: give a name, an id or a unique "
                              "start of an id")
    store = _store()
    names = store.names()
    automation_id = names.get(key) or (key if key in names.values() else None)
    if automation_id is None:
        matches = sorted(i for i in names.values() if i.startswith(key))
        if len(matches) > 1:
            shown = ", ".join(matches[:SHOWN_MATCHES])
            raise AutomationError(f"automation id {key!r} is ambiguous: it starts {shown}"
                                  f"{' and more' if len(matches) > SHOWN_MATCHES else ''}; "
                                  "give more of it")
        automation_id = matches[0] if matches else None
    text = store.get(automation_id) if automation_id else None
    if text is None:
        close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise AutomationNotFound(f"automation {key!r} not found{hint}")
    return Automation.model_validate_json(text)


def list_automations() -> list[Automation]:
    """Every automation, by name."""
    found = [Automation.model_validate_json(t) for t in _store().all()]
    return sorted(found, key=lambda a: a.name)
