"""``/hooks/{slug}``: a webhook's URL, turning a request into an event (no API key: each
webhook checks its own secret, `tasks_core.webhooks.auth`).

| status | when |
|---|---|
| 202 ``{"id": "<event id>"}`` | the event is on the stream (written before the reply) |
| 400 | the body or the rendered template is not the JSON of a valid event (the reason named) |
| 401 | authentication failed, or a Standard Webhooks message id was replayed; nothing written |
| 404 | no webhook has this slug, or it is disabled |
| 405 | the webhook does not take this method (``Allow`` lists those it takes) |
| 413 | the body is over ``webhook_body_max_bytes`` (refused while reading, see `read_body`) |
| 429 | over the webhook's rate limit (``Retry-After``: seconds) |
| 503 | Redis is unavailable (``Retry-After: 1``); no 2xx for an event not stored |

The handler is ``async`` so it can stop reading a body at the limit; Redis work runs in the
thread pool (`run_in_threadpool`), as the plain ``def`` routes do.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from tasks_core.api.errors import problem
from tasks_core.errors import ValidationError
from tasks_core.settings import Settings
from tasks_core.webhooks.auth import AuthFailed, verify
from tasks_core.webhooks.crud import find_by_slug
from tasks_core.webhooks.ingest import HookRequest
from tasks_core.webhooks.model import METHODS
from tasks_core.webhooks.receive import EventConflict, RateLimited, accept

__all__ = ["Accepted", "BodyTooLarge", "read_body", "receive", "router"]

router = APIRouter(tags=["webhooks"])


class Accepted(BaseModel):
    """The event a webhook request made: it is on the stream."""

    id: str


class BodyTooLarge(Exception):
    """A request body over the limit (the rest is not read)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, at most `limit` bytes: refused from its Content-Length, or as
    soon as the chunks read pass the limit.

    Raises:
        BodyTooLarge: the body is longer than `limit`.
        ValueError: Content-Length is not a number.
    """
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _unauthorized(reason: str, scheme: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if scheme == "bearer" else None
    return problem(status.HTTP_401_UNAUTHORIZED, f"authentication failed: {reason}", headers)


async def receive(request: Request, slug: str = Path(max_length=200)) -> Response:
    """Turn the request into an event through the webhook `slug` (statuses in the module
    docstring)."""
    settings: Settings = request.app.state.settings
    webhook = await run_in_threadpool(find_by_slug, slug)
    if webhook is None or not webhook.enabled:
        return problem(status.HTTP_404_NOT_FOUND,
                       f"no webhook at /hooks/{slug} (unknown or disabled)")
    if request.method not in webhook.methods:
        return problem(status.HTTP_405_METHOD_NOT_ALLOWED,
                       f"this webhook does not take {request.method}; it takes "
                       f"{', '.join(webhook.methods)}", {"Allow": ", ".join(webhook.methods)})
    limit = settings.webhook_body_max_bytes
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        return problem(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                       f"the body is over the limit of {limit} bytes (webhook_body_max_bytes)",
                       {"Connection": "close"})
    except ValueError:
        return problem(status.HTTP_400_BAD_REQUEST, "Content-Length is not a number")
    hook_request = HookRequest(method=request.method, url=str(request.url),
                               headers={k.lower(): v for k, v in request.headers.items()},
                               query=list(request.query_params.multi_items()), body=body)
    now = time.time()
    try:
        message_id = verify(webhook.auth, hook_request.headers, body, webhook.secret, now)
        event = await run_in_threadpool(accept, webhook, hook_request, message_id,
                                        settings=settings, now=now)
    except AuthFailed as exc:
        return _unauthorized(exc.reason, webhook.auth)
    except EventConflict as exc:
        return problem(status.HTTP_409_CONFLICT, str(exc))
    except RateLimited as exc:
        return problem(status.HTTP_429_TOO_MANY_REQUESTS, str(exc),
                       {"Retry-After": str(exc.retry_after)})
    except ValidationError as exc:
        return problem(status.HTTP_400_BAD_REQUEST, f"no event: {exc}")
    return JSONResponse(Accepted(id=event.id).model_dump(), status_code=status.HTTP_202_ACCEPTED)


for _method in METHODS:
    router.add_api_route(
        "/hooks/{slug}", receive, methods=[_method], response_model=Accepted,
        status_code=status.HTTP_202_ACCEPTED, operation_id=f"webhook_{_method.lower()}",
        summary=f"Send a webhook request ({_method})",
        description="Turn the request into an event through the webhook's template (or take "
                    "a CloudEvent as-is). 202 once the event is on the stream; 400 no valid "
                    "event; 401 authentication failed; 404 unknown or disabled; 405 method "
                    "not taken; 413 body too large; 429 rate limited; 503 Redis away.",
        responses={code: {"description": text} for code, text in (
            (400, "no valid event (the reason named)"), (401, "authentication failed"),
            (404, "unknown or disabled webhook"), (405, "method not taken"),
            (413, "body over webhook_body_max_bytes"), (429, "over the rate limit"),
            (503, "Redis unavailable"))})
