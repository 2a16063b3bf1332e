"""The API key: every ``/api`` route (and ``/metrics``) asks for it when one is set.

A client sends ``Authorization: Bearer <key>``; the key is the setting ``api_key``
(TASKS_CORE_API_KEY). Compared in constant time (`hmac.compare_digest`). The dashboard's
pages send the session cookie of a login instead (`tasks_core.dashboard.session`), with
the session's CSRF token in ``X-CSRF-Token`` on writes. Without a key set, the server only
binds to loopback (`check_binding`), so an open API is never reachable from another host
by accident.

Cross-site writes are refused whatever the key (`refuse_cross_site`): a browser tells
where a request comes from (``Sec-Fetch-Site``, ``Origin``), and a POST, PUT, PATCH or
DELETE from another site gets 403, so a page elsewhere cannot drive a local API through
the browser of someone who has it open. Clients that are not browsers (curl, SDKs) send
neither header and are not affected.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import HTTPException, Request, status

from tasks_core.errors import ConfigurationError
from tasks_core.settings import Settings

__all__ = ["check_binding", "is_loopback", "refuse_cross_site", "require_api_key"]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def require_api_key(request: Request) -> None:
    """FastAPI dependency: pass when no key is set or the request bears it.

    Raises:
        HTTPException: 401 with ``WWW-Authenticate: Bearer`` when the key is missing or
            wrong (the reply does not say which).
    """
    from tasks_core.dashboard.session import COOKIE, CSRF_HEADER, session_nonce, valid_csrf

    settings: Settings = request.app.state.settings
    if settings.api_key is None:
        return
    key = settings.api_key.get_secret_value()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode()):
        return
    nonce = session_nonce(key, request.cookies.get(COOKIE))
    if nonce is not None:  # the dashboard's login
        if request.method in _WRITES and not valid_csrf(key, nonce,
                                                        request.headers.get(CSRF_HEADER)):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"missing or wrong CSRF token ({CSRF_HEADER})")
        return
    raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                        detail="missing or wrong API key: send Authorization: Bearer "
                               "<TASKS_CORE_API_KEY>",
                        headers={"WWW-Authenticate": "Bearer"})


def refuse_cross_site(request: Request) -> None:
    """FastAPI dependency: a write a browser sends from another site gets 403.

    Raises:
        HTTPException: 403 when ``Sec-Fetch-Site`` is ``cross-site`` or ``same-site``, or
            ``Origin`` names another host than the request's ``Host``.
    """
    if request.method not in _WRITES:
        return
    fetch_site = request.headers.get("sec-fetch-site", "")
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    foreign_origin = origin is not None and (origin == "null" or
                                             origin.split("://", 1)[-1] != host)
    if fetch_site in ("cross-site", "same-site") or foreign_origin:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="cross-site writes are refused (Origin "
                                   f"{origin or 'unknown'} is not this server)")


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or ``localhost``) reaches this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_binding(host: str, settings: Settings) -> None:
    """Refuse to listen on a non-loopback address without an API key.

    Raises:
        ConfigurationError: `host` is not loopback and ``api_key`` is unset.
    """
    if settings.api_key is None and not is_loopback(host):
        raise ConfigurationError(
            f"refusing to serve the API on {host} without an API key: set "
            "TASKS_CORE_API_KEY (clients send Authorization: Bearer KEY), or bind to "
            "127.0.0.1")
