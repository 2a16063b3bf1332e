"""An ASGI middleware around the whole server: Host checking without an API key, and
headers that keep pages out of frames.

Without an API key the server only listens on loopback (`auth.check_binding`), but a
browser can still be pointed at it through a name an attacker controls that resolves to
127.0.0.1 (DNS rebinding): the page is then "same origin" with the API. So, with no key
set, a request whose ``Host`` is not a loopback name (``localhost``, ``127.x.x.x``,
``[::1]``, with any port) gets 421 Misdirected Request and reaches nothing. With a key set,
the key (or a login) is what protects the server, and any Host is served (behind a
reverse proxy, say).

Every response carries ``X-Frame-Options: DENY`` and ``Content-Security-Policy:
frame-ancestors 'none'``, so no other site can frame the dashboard and trick clicks on its
buttons. A raw ASGI middleware (not Starlette's ``BaseHTTPMiddleware``), so streamed
replies (server-sent events) and client disconnects pass through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from tasks_core.api.auth import is_loopback
from tasks_core.settings import Settings

__all__ = ["GuardMiddleware", "host_name"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_FRAME_HEADERS = [(b"x-frame-options", b"DENY"),
                  (b"content-security-policy", b"frame-ancestors 'none'")]


def host_name(host: str) -> str:
    """The name part of a Host header value (``[::1]:4200`` -> ``::1``)."""
    host = host.strip()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class GuardMiddleware:
    """Refuse non-loopback Host values when no API key is set; add the framing headers."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.settings.api_key is None:
            headers = dict(scope.get("headers") or [])
            host = headers.get(b"host", b"").decode("latin-1")
            if not is_loopback(host_name(host)):
                await _misdirected(send, host)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_FRAME_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _misdirected(send: Send, host: str) -> None:
    body = json.dumps({"detail": f"Host {host or '(none)'!r} is not this server: without an "
                                 "API key it answers loopback names only (localhost, "
                                 "127.0.0.1, [::1]); set TASKS_CORE_API_KEY to serve others"
                       }).encode()
    await send({"type": "http.response.start", "status": 421,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *_FRAME_HEADERS]})
    await send({"type": "http.response.body", "body": body})
