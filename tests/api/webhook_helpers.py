"""What the webhook API tests share: webhooks made in this process, the stream read back."""

from __future__ import annotations

import json
from typing import Any

from tasks_core.webhooks import WebhookSpec, create_webhook
from tasks_core.webhooks.model import Webhook

STATIC = json.dumps({"event": "acme.ping", "resource": {"tasks-core.resource.id": "acme.x"}})


def make_hook(name: str = "hook", template: str | None = STATIC,
              **fields: Any) -> tuple[Webhook, str]:
    """A stored webhook (auth none unless given) and its secret."""
    fields.setdefault("auth", "none")
    return create_webhook(WebhookSpec(name=name, template=template, **fields))


def stream() -> list[dict[str, Any]]:
    """The events webhook requests made on this test's stream (those relating a webhook),
    newest first; the webhooks' own created/updated/deleted events are left out."""
    from tasks_core.process_runtime import get_runtime

    events = [json.loads(text) for _, text in get_runtime().events.newest_first(count=10_000)]
    return [e for e in events
            if any(r.get("tasks-core.resource.role") == "webhook" for r in e["related"])]


def stream_ids() -> list[str]:
    return [event["id"] for event in stream()]
