"""Webhooks: URLs (``/hooks/<slug>``) that turn requests into events on the stream.

Modules: `model` (the webhook, its checks), `auth` (bearer, Standard Webhooks HMAC,
GitHub signatures: pure), `ingest` (a request -> its event: template context, rendering,
CloudEvents; pure), `crud` (stored through `tasks_core.store.webhooks`). The HTTP side is
`tasks_core.api.hooks` (receiving) and `tasks_core.api.webhooks` (managing); the CLI's is
`tasks-core webhook ...`.
"""

from tasks_core.webhooks.crud import (
    create_webhook,
    delete_webhook,
    find_by_slug,
    list_webhooks,
    read_webhook,
    rotate_secret,
    set_enabled,
    update_webhook,
    webhook_url,
)
from tasks_core.webhooks.model import (
    StoredWebhook,
    Webhook,
    WebhookError,
    WebhookNotFound,
    WebhookSpec,
    WebhookUpdate,
)

__all__ = [
    "StoredWebhook",
    "Webhook",
    "WebhookError",
    "WebhookNotFound",
    "WebhookSpec",
    "WebhookUpdate",
    "create_webhook",
    "delete_webhook",
    "find_by_slug",
    "list_webhooks",
    "read_webhook",
    "rotate_secret",
    "set_enabled",
    "update_webhook",
    "webhook_url",
]
