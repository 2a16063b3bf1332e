"""``/webhooks``: the webhooks (URL with a Copy button, methods, auth, enabled) with Enable /
Disable, Rotate secret (the new secret shown once) and Delete, and a create form whose
template editor shows a live preview of the event a sample request makes
(``POST /api/webhooks/preview``); ``/webhooks/{id}``: one webhook and its template. Every
change goes through ``/api/webhooks`` (`static/webhooks.js`); secrets are shown only in the
replies of create and rotate, never rendered by the server."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tasks_core.dashboard.templating import NAV, page
from tasks_core.webhooks import crud
from tasks_core.webhooks.model import AUTH_SCHEMES, DEFAULT_METHODS, METHODS, Webhook

__all__ = ["SAMPLE_BODY", "SAMPLE_TEMPLATE", "hook_url", "router"]

router = APIRouter(include_in_schema=False)
NAV.append(("Webhooks", "/webhooks"))

SAMPLE_TEMPLATE = """{
  "event": "acme.order.{{ body.status }}",
  "resource": {
    "tasks-core.resource.id": "acme.order.{{ body.order_id }}"
  },
  "payload": {{ body | tojson }}
}"""
"""The template the create form starts with."""

SAMPLE_BODY = '{"order_id": 42, "status": "shipped"}'
"""The sample request body the create form starts with."""


def hook_url(request: Request, webhook: Webhook) -> str:
    """Where `webhook` takes requests on this server: ``<base URL>/hooks/<slug>``."""
    return f"{str(request.base_url).rstrip('/')}/hooks/{webhook.slug}"


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks(request: Request, partial: bool = False) -> HTMLResponse:
    """The list (or with ``partial``, only it) and the create form."""
    hooks = crud.list_webhooks()
    return page(request, "webhooks_list.html" if partial else "webhooks.html",
                hooks=hooks, urls={w.id: hook_url(request, w) for w in hooks},
                methods=METHODS, default_methods=DEFAULT_METHODS, auth_schemes=AUTH_SCHEMES,
                sample_template=SAMPLE_TEMPLATE, sample_body=SAMPLE_BODY)


@router.get("/webhooks/{name}", response_class=HTMLResponse)
def webhook(request: Request, name: str, partial: bool = False) -> HTMLResponse:
    """One webhook by name, id or unique start of its id (404 naming it otherwise)."""
    found = crud.read_webhook(name[:200]).public()
    return page(request, "webhooks_list.html" if partial else "webhook.html",
                hooks=[found], urls={found.id: hook_url(request, found)}, hook=found)
