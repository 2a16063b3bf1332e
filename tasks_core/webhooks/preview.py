"""A webhook's event for a sample request, rendered without a webhook stored and without
writing anything (the dashboard's live preview, ``POST /api/webhooks/preview``).

The request goes through `tasks_core.webhooks.ingest.make_event`, the code ``/hooks/<slug>``
runs, so a preview and a real request make the same event (its ``id`` and ``occurred``
aside, when the template does not set them). The webhook named in ``related`` is the one
being drafted: its id reads `DRAFT_ID` until it is created.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tasks_core.errors import ValidationError
from tasks_core.events.schema import Event, EventLimits
from tasks_core.webhooks.ingest import HookRequest, make_event
from tasks_core.webhooks.model import TEMPLATE_MAX_CHARS, Method, Webhook, WebhookError

__all__ = ["DRAFT_ID", "PreviewRequest", "preview_event"]

DRAFT_ID = "draft"
"""The id the drafted webhook has in a preview's ``related``."""


class PreviewRequest(BaseModel):
    """A template and a sample request (the body of ``POST /api/webhooks/preview``)."""

    model_config = ConfigDict(extra="forbid")

    template: str | None = Field(default=None, max_length=TEMPLATE_MAX_CHARS,
                                 description="the webhook's template (null: CloudEvents only)")
    body: str = Field(default="", description="the sample request's body, as text")
    headers: dict[str, str] = Field(
        default_factory=dict, max_length=100,
        description="the sample request's headers (Content-Type defaults to "
                    "application/json when a body is given)")
    method: Method = Field(default="POST", description="the sample request's method")
    query: str = Field(default="", max_length=10_000,
                       description="the sample request's query string, without '?'")
    cloudevents: bool = Field(default=False, description="the webhook takes CloudEvents")
    name: str = Field(default="new webhook", max_length=200, description="the webhook's name")


def preview_event(request: PreviewRequest, *, base_url: str, limits: EventLimits,
                  body_max_bytes: int) -> Event:
    """The event `request`'s sample would make through a webhook with its template.

    Args:
        base_url: this server's base URL (the sample's ``url`` is ``<base>/hooks/preview``).
        limits: the event limits ``/hooks`` applies.
        body_max_bytes: longest body taken (``webhook_body_max_bytes``).

    Raises:
        ValidationError: the reason no event is made, as ``/hooks`` would give it (a
            template syntax error with its line, bad JSON, a missing field, a limit), or a
            body over `body_max_bytes`.
    """
    from urllib.parse import parse_qsl

    body = request.body.encode()
    if len(body) > body_max_bytes:
        raise ValidationError(f"the body is over the limit of {body_max_bytes} bytes "
                              "(webhook_body_max_bytes)")
    headers = {k.lower(): v for k, v in request.headers.items()}
    if body and "content-type" not in headers:
        headers["content-type"] = "application/json"
    draft = Webhook.model_construct(id=DRAFT_ID, name=request.name, template=request.template,
                                    cloudevents=request.cloudevents)
    if request.template is not None:
        _check(request.template)
    hook = HookRequest(method=request.method, url=f"{base_url.rstrip('/')}/hooks/preview",
                       headers=headers, query=parse_qsl(request.query, keep_blank_values=True),
                       body=body)
    return make_event(draft, hook, limits)


def _check(template: str) -> None:
    from tasks_core.events.actions.templates import check_source

    try:
        check_source(template)
    except ValidationError as exc:
        raise WebhookError(f"template: {exc}") from None
