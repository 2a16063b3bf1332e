"""Running CallWebhook, with the standard library's `urllib.request` (no new dependency:
httpx is only a dev dependency of tasks-core, and one bounded request needs nothing more).

Safety (ARCHITECTURE.md, Safety rules): the host's addresses are resolved first and a
link-local (cloud metadata: 169.254.169.254), multicast, reserved or unspecified address
is always refused; loopback and private (RFC 1918, unique-local) addresses are refused
unless the setting ``webhook_allow_private_addresses`` is true. Redirects are followed only
to the same scheme, host and port. A response status >= 400, a timeout or a connection
error fails the action. The response body is read up to `MAX_RESPONSE_BYTES`.

The address check and the connection resolve the name separately, so a DNS answer that
changes in between (rebinding) is not caught; pin webhook hosts in production.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from tasks_core.events.actions.context import ActionContext, ActionResult
from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.actions.models import CallWebhook

__all__ = ["MAX_RESPONSE_BYTES", "address_refusal", "call_webhook"]

MAX_RESPONSE_BYTES = 64 * 1024


def address_refusal(host: str, port: int, *, allow_private: bool) -> str | None:
    """Why `host` may not be called (one of its addresses named), or None.

    Raises:
        ActionFailed: the name does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ActionFailed(f"webhook host {host!r} does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        # order matters: 169.254/16 and 0/8 count as private too, ::1 as reserved too
        if address.is_link_local or address.is_unspecified or address.is_multicast:
            return f"{host!r} resolves to {address}, a link-local/reserved address (refused)"
        if address.is_loopback or address.is_private:
            if not allow_private:
                return (f"{host!r} resolves to {address}, a private or loopback address; "
                        f"set webhook_allow_private_addresses = true to allow it")
        elif address.is_reserved:
            return f"{host!r} resolves to {address}, a link-local/reserved address (refused)"
    return None


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Any:
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            raise urllib.error.HTTPError(newurl, code, f"redirect to another host "
                                         f"({new.hostname}) refused", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _body(payload: Any) -> tuple[bytes | None, str | None]:
    if payload is None:
        return None, None
    if isinstance(payload, str):
        return payload.encode(), "text/plain; charset=utf-8"
    return json.dumps(payload).encode(), "application/json"


def call_webhook(action: CallWebhook, ctx: ActionContext) -> ActionResult:
    """Send the (rendered) request. Detail: ``{"status", "url", "response"}`` (the start of
    the response body, as text).

    Raises:
        ActionFailed: a refused address, a status >= 400, a timeout, a connection error.
    """
    from tasks_core.process_runtime import get_runtime

    parts = urlsplit(action.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    allow = get_runtime().settings.webhook_allow_private_addresses
    problem = address_refusal(host, port, allow_private=allow)
    if problem is not None:
        raise ActionFailed(f"{action.describe()}: {problem}")
    data, content_type = _body(action.payload)
    headers = {"User-Agent": "tasks-core-automation", **action.headers}
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    request = urllib.request.Request(action.url, data=data, headers=headers,
                                     method=action.method)
    opener = urllib.request.build_opener(_SameOrigin())
    try:
        with opener.open(request, timeout=action.timeout) as response:
            status = int(response.status)
            text = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise ActionFailed(f"{action.describe()}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ActionFailed(f"{action.describe()}: {reason}") from None
    return ActionResult(action.type, ctx.action_index, "",
                        {"status": status, "url": action.url, "response": text[:1000]})
