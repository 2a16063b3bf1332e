"""Automations in Redis: one JSON document each, a name index, an owner index, and a
change channel.

    p:automation:<id>             STRING  the automation's JSON
    p:automations                 HASH    name -> id (a name is held by one automation)
    p:automations:owned:<dep id>  SET     ids of the automations a deployment owns
    p:automations:changes         CHANNEL one message per change (`CHANGE_SHAPE`)

Writes go through automation_save.lua / automation_delete.lua, which update the record,
both indexes and publish the change in one atomic call, so a subscriber that hears of a
change reads the record as changed. This store holds JSON text; the model and its checks
are `tasks_core.automations`'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import redis
import redis.client

from tasks_core.errors import StoreUnavailable
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["CHANGE_SHAPE", "AutomationStore", "ChangeSubscription", "SaveOutcome"]

CHANGE_SHAPE = ('{"op": "created" | "updated" | "deleted", "id": "<automation id>", '
                '"name": "<name>", "enabled": true, "owner_deployment_id": "<id>" | null}')
"""The JSON of a message on ``p:automations:changes``."""

SaveOutcome = tuple[Literal["ok", "duplicate", "missing"], str | None]
"""What `save` did: ("ok", None), ("duplicate", id holding the name) or ("missing", None)."""

_LOST = (redis.ConnectionError, redis.TimeoutError)


class ChangeSubscription:
    """A subscription to the automation change channel."""

    def __init__(self, pubsub: redis.client.PubSub, channel: str) -> None:
        self._pubsub = pubsub
        try:
            pubsub.subscribe(channel)
        except _LOST as exc:
            raise StoreUnavailable(f"cannot subscribe to {channel}: {exc}") from exc

    def next(self, timeout: float) -> str | None:
        """The next change message (JSON text), waiting up to `timeout` seconds; None when
        none came.

        Raises:
            StoreUnavailable: the connection was lost (changes may have been missed:
                reload every automation after subscribing again).
        """
        try:
            message: Any = self._pubsub.get_message(timeout=timeout)
        except _LOST as exc:
            raise StoreUnavailable(f"lost the automation change channel: {exc}") from exc
        return None if message is None else str(message["data"])

    def close(self) -> None:
        """Unsubscribe and release the connection."""
        self._pubsub.close()


class AutomationStore(KeyedStore):
    """Create, read, list and delete automation records (as JSON)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._save = self.script("automation_save.lua")
        self._delete = self.script("automation_delete.lua")

    def _keys(self, automation_id: str, owner: str | None) -> list[str]:
        keys = [self.keys.automation_names, self.keys.automation(automation_id)]
        return [*keys, self.keys.automations_owned(owner)] if owner else keys

    def save(self, mode: Literal["create", "update"], automation_id: str, name: str,
             text: str, *, owner: str | None, message: str) -> SaveOutcome:
        """Write an automation and publish `message`, atomically; see `SaveOutcome`.

        ``create`` is refused when `name` (or the id) is taken; ``update`` when the id does
        not exist or `name` is another automation's (a rename frees the old name).
        """
        raw: Any = self._save(keys=self._keys(automation_id, owner),
                              args=[mode, automation_id, name, text,
                                    self.keys.automation_changes, message])
        outcome = str(raw[0])
        holder = str(raw[1]) if len(raw) > 1 else None
        if outcome == "duplicate":
            return "duplicate", holder
        return ("missing", None) if outcome == "missing" else ("ok", None)

    def delete(self, automation_id: str, *, owner: str | None, message: str) -> bool:
        """Remove an automation and publish `message`; False when there was none."""
        return bool(self._delete(keys=self._keys(automation_id, owner),
                                 args=[automation_id, self.keys.automation_changes, message]))

    def get(self, automation_id: str) -> str | None:
        """The JSON of the automation with this id, or None."""
        text = self.client.get(self.keys.automation(automation_id))
        return None if text is None else str(text)

    def id_of(self, name: str) -> str | None:
        """The id of the automation named `name`, or None."""
        found = self.client.hget(self.keys.automation_names, name)
        return None if found is None else str(found)

    def names(self) -> dict[str, str]:
        """Every automation name -> id."""
        raw: Any = self.client.hgetall(self.keys.automation_names)
        return {str(k): str(v) for k, v in raw.items()}

    def ids_starting(self, prefix: str) -> list[str]:
        """The ids of automations that start with `prefix` (none for an empty prefix)."""
        if not prefix:
            return []
        return sorted(i for i in self.names().values() if i.startswith(prefix))

    def get_many(self, ids: Sequence[str]) -> list[str]:
        """The JSON of the automations of these ids that exist, in their order."""
        if not ids:
            return []
        texts = self.client.mget([self.keys.automation(i) for i in ids])
        return [str(t) for t in texts if t is not None]

    def all(self) -> list[str]:
        """The JSON of every automation (in no particular order)."""
        return self.get_many(list(self.names().values()))

    def owned(self, deployment_id: str) -> list[str]:
        """The ids of the automations deployment `deployment_id` owns."""
        raw: Any = self.client.smembers(self.keys.automations_owned(deployment_id))
        return sorted(str(i) for i in raw)

    def subscribe(self) -> ChangeSubscription:
        """Subscribe to change messages (each a JSON object shaped as `CHANGE_SHAPE`)."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        return ChangeSubscription(pubsub, self.keys.automation_changes)
