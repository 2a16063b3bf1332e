"""Storing webhooks: create, read (by name, id or unique start of an id), list, update,
enable, disable, rotate the secret, delete; and the look-up by slug `/hooks/<slug>` does.

Each change goes through `tasks_core.store.webhooks.WebhookStore` (the record and its name
and slug indexes in one atomic call), then emits an event through the process's buffered
client::

    tasks-core.webhook.created | updated | deleted
        resource  {"tasks-core.resource.id": "tasks-core.webhook.<id>",
                   "tasks-core.resource.name": "<name>"}
        payload   updated: {"updated_fields": [...]} (names only: never the secret)

The secret is returned only by `create_webhook` and `rotate_secret`.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from tasks_core.events.emit import emit_event
from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME
from tasks_core.webhooks.auth import new_secret
from tasks_core.webhooks.model import (
    StoredWebhook,
    Webhook,
    WebhookError,
    WebhookNotFound,
    WebhookSpec,
    WebhookUpdate,
)

if TYPE_CHECKING:
    from tasks_core.settings import Settings
    from tasks_core.store.webhooks import SaveOutcome, WebhookStore

__all__ = ["create_webhook", "delete_webhook", "find_by_slug", "list_webhooks",
           "read_webhook", "rotate_secret", "set_enabled", "update_webhook", "webhook_url"]


def _store() -> WebhookStore:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().webhooks


def _announce(webhook: Webhook, op: Literal["created", "updated", "deleted"],
              fields: list[str] | None = None) -> None:
    emit_event(f"tasks-core.webhook.{op}",
               {RESOURCE_ID: f"tasks-core.webhook.{webhook.id}", RESOURCE_NAME: webhook.name},
               payload=None if fields is None else {"updated_fields": sorted(fields)})


def webhook_url(slug: str, settings: Settings, host: str = "127.0.0.1") -> str:
    """The URL of a webhook on a server at `host` on ``server_port``:
    ``http://<host>:<port>/hooks/<slug>`` (the host is where `tasks-core server` runs)."""
    return f"http://{host}:{settings.server_port}/hooks/{slug}"


def _refused(outcome: SaveOutcome, stored: StoredWebhook) -> None:
    state, holder = outcome
    if state == "duplicate-name":
        raise WebhookError(f"webhook name {stored.name!r} is taken (by webhook {holder}); "
                           "choose another name")
    if state == "duplicate-slug":
        raise WebhookError(f"slug {stored.slug!r} is taken (by webhook {holder}); choose "
                           "another or leave it out for a random one")
    if state == "missing":
        raise WebhookNotFound(f"webhook {stored.id} not found (deleted?)")


def create_webhook(spec: WebhookSpec) -> tuple[Webhook, str]:
    """Store a new webhook with a new secret; (the webhook, its secret).

    Raises:
        WebhookError: its name or slug is taken.
    """
    now = datetime.now(UTC)
    stored = StoredWebhook.model_validate({**spec.model_dump(), "secret": new_secret(),
                                           "created": now, "updated": now})
    _refused(_store().save("create", stored.id, stored.name, stored.slug,
                           stored.model_dump_json()), stored)
    _announce(stored, "created")
    return stored.public(), stored.secret


def _stored(webhook_id: str) -> StoredWebhook | None:
    text = _store().get(webhook_id)
    return None if text is None else StoredWebhook.model_validate_json(text)


def read_webhook(name_or_id: str) -> StoredWebhook:
    """The webhook of that name, id, or unique start of an id (secret included: callers
    show `.public()`).

    Raises:
        WebhookNotFound: none matches (close names suggested).
        WebhookError: empty, or several ids start with it.
    """
    if not name_or_id:
        raise WebhookError("a webhook name or id is needed")
    store = _store()
    names = store.names()
    webhook_id = names.get(name_or_id)
    if webhook_id is None and name_or_id in names.values():
        webhook_id = name_or_id
    if webhook_id is None:
        starting = sorted(i for i in names.values() if i.startswith(name_or_id))
        if len(starting) > 1:
            raise WebhookError(f"webhook id {name_or_id!r} is ambiguous: it starts "
                               f"{', '.join(starting[:10])}")
        webhook_id = starting[0] if starting else None
    found = None if webhook_id is None else _stored(webhook_id)
    if found is None:
        close = difflib.get_close_matches(name_or_id, list(names), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise WebhookNotFound(f"webhook {name_or_id!r} not found{hint}")
    return found


def find_by_slug(slug: str) -> StoredWebhook | None:
    """The webhook whose URL is ``/hooks/<slug>``, or None."""
    webhook_id = _store().id_of_slug(slug)
    return None if webhook_id is None else _stored(webhook_id)


def list_webhooks() -> list[Webhook]:
    """Every webhook, by name (without secrets)."""
    store = _store()
    names = store.names()
    texts = store.get_many([names[n] for n in sorted(names)])
    return [StoredWebhook.model_validate_json(t).public() for t in texts]


def _save(before: StoredWebhook, changes: dict[str, Any]) -> StoredWebhook:
    fields = {**before.model_dump(), **changes, "updated": datetime.now(UTC)}
    after = StoredWebhook.model_validate(fields)  # the combination checked again
    _refused(_store().save("update", after.id, after.name, after.slug,
                           after.model_dump_json()), after)
    _announce(after, "updated", [name for name in changes
                                 if getattr(before, name) != getattr(after, name)])
    return after


def update_webhook(name_or_id: str, update: WebhookUpdate) -> Webhook:
    """Set the fields `update` gives; the stored webhook.

    Raises:
        WebhookNotFound: as `read_webhook`.
        WebhookError: the new name or slug is taken, or the result is invalid.
    """
    before = read_webhook(name_or_id)
    changes = update.model_dump(exclude_unset=True, exclude_none=True)
    return _save(before, changes).public() if changes else before.public()


def set_enabled(name_or_id: str, enabled: bool) -> tuple[Webhook, bool]:
    """Enable or disable a webhook; (the webhook, whether it changed)."""
    before = read_webhook(name_or_id)
    if before.enabled == enabled:
        return before.public(), False
    return _save(before, {"enabled": enabled}).public(), True


def rotate_secret(name_or_id: str) -> tuple[Webhook, str]:
    """Give a webhook a new secret (the old one stops working at once); (webhook, secret)."""
    after = _save(read_webhook(name_or_id), {"secret": new_secret()})
    return after.public(), after.secret


def delete_webhook(name_or_id: str) -> Webhook:
    """Delete a webhook (its URL answers 404 from now on); the deleted webhook.

    Raises:
        WebhookNotFound: as `read_webhook`.
    """
    webhook = read_webhook(name_or_id)
    if not _store().delete(webhook.id):
        raise WebhookNotFound(f"webhook {name_or_id!r} not found (deleted meanwhile)")
    _announce(webhook, "deleted")
    return webhook.public()
