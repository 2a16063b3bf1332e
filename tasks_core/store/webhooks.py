"""Webhooks in Redis: one JSON document each (secret included), a name index, a slug
index, per-webhook rate counters and the Standard Webhooks replay marks.

    p:webhook:<id>             STRING  the webhook's JSON
    p:webhooks                 HASH    name -> id (a name is held by one webhook)
    p:webhooks:slugs           HASH    slug -> id (the URL /hooks/<slug>)
    p:webhook:<id>:rate:<n>    STRING  requests counted in fixed window n
    p:webhook:<id>:seen:<msg>  STRING  a message id accepted (replays refused)

Saves and deletes go through webhook_save.lua / webhook_delete.lua, which keep the record
and both indexes in step in one atomic call. This store holds JSON text; the model and its
checks are `tasks_core.webhooks`'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import redis

from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["SaveOutcome", "WebhookStore"]

SaveOutcome = tuple[Literal["ok", "duplicate-name", "duplicate-slug", "missing"], str | None]
"""What `save` did, and the id holding a taken name or slug."""


class WebhookStore(KeyedStore):
    """Create, read, list and delete webhook records (JSON); count requests; mark
    message ids."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._save = self.script("webhook_save.lua")
        self._delete = self.script("webhook_delete.lua")
        self._rate = self.script("webhook_rate.lua")

    def _keys(self, webhook_id: str) -> list[str]:
        return [self.keys.webhook_names, self.keys.webhook_slugs, self.keys.webhook(webhook_id)]

    def save(self, mode: Literal["create", "update"], webhook_id: str, name: str, slug: str,
             text: str) -> SaveOutcome:
        """Write a webhook and its index entries atomically; see `SaveOutcome`.

        ``create`` is refused when the name, the slug or the id is taken; ``update`` when
        the id does not exist or the name or slug is another webhook's (a rename frees the
        old name, a new slug the old slug).
        """
        raw: Any = self._save(keys=self._keys(webhook_id),
                              args=[mode, webhook_id, name, slug, text])
        outcome = str(raw[0])
        holder = str(raw[1]) if len(raw) > 1 else None
        if outcome in ("duplicate-name", "duplicate-slug", "missing"):
            return outcome, holder  # type: ignore[return-value]  # checked just above
        return "ok", None

    def delete(self, webhook_id: str) -> bool:
        """Remove a webhook and its index entries; False when there was none."""
        return bool(self._delete(keys=self._keys(webhook_id), args=[webhook_id]))

    def get(self, webhook_id: str) -> str | None:
        """The JSON of the webhook with this id, or None."""
        text = self.client.get(self.keys.webhook(webhook_id))
        return None if text is None else str(text)

    def id_of(self, name: str) -> str | None:
        """The id of the webhook named `name`, or None."""
        found = self.client.hget(self.keys.webhook_names, name)
        return None if found is None else str(found)

    def id_of_slug(self, slug: str) -> str | None:
        """The id of the webhook whose URL ends in `slug`, or None."""
        found = self.client.hget(self.keys.webhook_slugs, slug)
        return None if found is None else str(found)

    def names(self) -> dict[str, str]:
        """Every webhook name -> id."""
        raw: Any = self.client.hgetall(self.keys.webhook_names)
        return {str(k): str(v) for k, v in raw.items()}

    def get_many(self, ids: Sequence[str]) -> list[str]:
        """The JSON of the webhooks of these ids that exist, in their order."""
        if not ids:
            return []
        texts = self.client.mget([self.keys.webhook(i) for i in ids])
        return [str(t) for t in texts if t is not None]

    def count_request(self, webhook_id: str, window: int, window_ms: int) -> int:
        """Count one request in fixed window number `window` (``window_ms`` long); the
        window's count, this request included."""
        return int(self._rate(keys=[self.keys.webhook_rate(webhook_id, window)],
                              args=[window_ms]))

    def mark_message(self, webhook_id: str, message_id: str, ttl_seconds: int) -> bool:
        """Mark a message id as taken for `ttl_seconds`; False when it already was (a
        replay)."""
        return bool(self.client.set(self.keys.webhook_seen(webhook_id, message_id), "1",
                                    nx=True, ex=ttl_seconds))

    def unmark_message(self, webhook_id: str, message_id: str) -> None:
        """Forget a message id marked for a request that then failed to store its event."""
        self.client.delete(self.keys.webhook_seen(webhook_id, message_id))
