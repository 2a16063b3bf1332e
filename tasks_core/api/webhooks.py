"""`/api/webhooks`: create (the secret shown once), list, read, update, enable, disable,
rotate the secret, delete. A webhook is named by its name, its id, or a unique start of
its id. Replies never hold the secret, except create's and rotate-secret's.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tasks_core.api.errors import problem
from tasks_core.errors import ValidationError
from tasks_core.events.schema import Event, EventLimits
from tasks_core.settings import Settings
from tasks_core.webhooks import crud
from tasks_core.webhooks.model import Webhook, WebhookSpec, WebhookUpdate
from tasks_core.webhooks.preview import PreviewRequest, preview_event

__all__ = ["PreviewReply", "WebhookOut", "WebhookWithSecret", "router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_NAME = Path(max_length=200, description="the webhook's name, id, or a unique start of its id")


class WebhookOut(Webhook):
    """A webhook, with the URL it answers at on this server."""

    url: str = Field(description="where to send requests: <this server>/hooks/<slug>")


class WebhookWithSecret(WebhookOut):
    """A webhook with its secret: only create and rotate-secret return it. Keep it; it is
    not shown again."""

    secret: str = Field(description="whsec_<base64 of 32 random bytes>")


class PreviewReply(BaseModel):
    """The event a sample request would make (nothing is written)."""

    event: Event


def _out(webhook: Webhook, request: Request) -> WebhookOut:
    return WebhookOut(**webhook.model_dump(), url=_url(webhook, request))


def _url(webhook: Webhook, request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/hooks/{webhook.slug}"


@router.post("", response_model=WebhookWithSecret, status_code=status.HTTP_201_CREATED,
             operation_id="create_webhook",
             description="Create a webhook; the reply holds its URL and its secret (shown "
                         "once). 422 for a bad template, method or auth scheme, or a name or "
                         "slug already taken.")
def create(spec: WebhookSpec, request: Request) -> WebhookWithSecret:
    webhook, secret = crud.create_webhook(spec)
    return WebhookWithSecret(**webhook.model_dump(), url=_url(webhook, request),
                             secret=secret)


@router.post("/preview", response_model=PreviewReply, operation_id="preview_webhook",
             responses={400: {"description": "no valid event (the reason named, as /hooks "
                                             "gives it)"}},
             description="Render the event a sample request (body, headers, method, query) "
                         "would make through a webhook with this template, with the code of "
                         "/hooks; nothing is stored. 400 with the reason when it makes none.")
def preview(spec: PreviewRequest, request: Request) -> PreviewReply | JSONResponse:
    settings: Settings = request.app.state.settings
    try:
        event = preview_event(spec, base_url=str(request.base_url),
                              limits=EventLimits.from_settings(settings),
                              body_max_bytes=settings.webhook_body_max_bytes)
    except ValidationError as exc:
        return problem(status.HTTP_400_BAD_REQUEST, f"no event: {exc}")
    return PreviewReply(event=event)


@router.get("", response_model=list[WebhookOut], operation_id="list_webhooks",
            description="Every webhook, by name (no secrets).")
def list_all(request: Request) -> list[WebhookOut]:
    return [_out(w, request) for w in crud.list_webhooks()]


@router.get("/{name}", response_model=WebhookOut, operation_id="read_webhook",
            description="One webhook (404 when there is none).")
def read(request: Request, name: str = _NAME) -> WebhookOut:
    return _out(crud.read_webhook(name).public(), request)


@router.patch("/{name}", response_model=WebhookOut, operation_id="update_webhook",
              description="Set the fields given (name, template, methods, auth, cloudevents, "
                          "slug, enabled); the secret stays.")
def update(changes: WebhookUpdate, request: Request, name: str = _NAME) -> WebhookOut:
    return _out(crud.update_webhook(name, changes), request)


@router.post("/{name}/enable", response_model=WebhookOut, operation_id="enable_webhook",
             description="Enable a webhook: its URL takes requests again.")
def enable(request: Request, name: str = _NAME) -> WebhookOut:
    return _out(crud.set_enabled(name, True)[0], request)


@router.post("/{name}/disable", response_model=WebhookOut, operation_id="disable_webhook",
             description="Disable a webhook: its URL answers 404 until enabled.")
def disable(request: Request, name: str = _NAME) -> WebhookOut:
    return _out(crud.set_enabled(name, False)[0], request)


@router.post("/{name}/rotate_secret", response_model=WebhookWithSecret,
             operation_id="rotate_webhook_secret",
             description="Give the webhook a new secret (the old one stops working at once); "
                         "the reply holds it, shown once.")
def rotate(request: Request, name: str = _NAME) -> WebhookWithSecret:
    webhook, secret = crud.rotate_secret(name)
    return WebhookWithSecret(**webhook.model_dump(), url=_url(webhook, request),
                             secret=secret)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="delete_webhook",
               description="Delete a webhook: its URL answers 404 from now on.")
def delete(name: str = _NAME) -> Response:
    crud.delete_webhook(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
