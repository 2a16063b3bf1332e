"""The API key: every ``/api`` route (and ``/metrics``) asks for it when one is set.

A client sends ``Authorization: Bearer <key>``; the key is the setting ``api_key``
(TASKS_CORE_API_KEY). Compared in constant time (`hmac.compare_digest`). Without a key
set, the server only binds to loopback (`check_binding`), so an open API is never reachable
from another host by accident.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import HTTPException, Request, status

from tasks_core.errors import ConfigurationError
from tasks_core.settings import Settings

__all__ = ["check_binding", "is_loopback", "require_api_key"]


def require_api_key(request: Request) -> None:
    """FastAPI dependency: pass when no key is set or the request bears it.

    Raises:
        HTTPException: 401 with ``WWW-Authenticate: Bearer`` when the key is missing or
            wrong (the reply does not say which).
    """
    settings: Settings = request.app.state.settings
    if settings.api_key is None:
        return
    expected = settings.api_key.get_secret_value().encode()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            detail="missing or wrong API key: send Authorization: Bearer "
                                   "<TASKS_CORE_API_KEY>",
                            headers={"WWW-Authenticate": "Bearer"})


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
