"""Dashboard sessions and CSRF tokens, derived from the API key (pure; no storage).

A session cookie is ``<issued>.<nonce>.<mac>``: HMAC-SHA256 keyed by the API key over
``session|<issued>|<nonce>``, valid for `SESSION_SECONDS` after ``issued`` (epoch seconds).
Changing the key ends every session. The CSRF token of a session is another HMAC over its
nonce, so pages can carry it and the server can check it without storing anything. Without
an API key there are no sessions, and the CSRF token is derived from a per-process secret.
Comparisons are constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

__all__ = ["COOKIE", "CSRF_HEADER", "SESSION_SECONDS", "csrf_token", "new_session",
           "session_nonce", "valid_csrf"]

COOKIE = "tc_session"
"""Name of the session cookie."""

CSRF_HEADER = "X-CSRF-Token"
"""Header (or form field ``csrf_token``) that carries the CSRF token on dashboard writes."""

SESSION_SECONDS = 12 * 3600
"""How long a login lasts."""

_PROCESS_SECRET = secrets.token_bytes(32)


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()


def new_session(api_key: str, now: float | None = None) -> str:
    """A fresh session cookie value for someone who gave `api_key`."""
    issued = str(int(now if now is not None else time.time()))
    nonce = secrets.token_hex(16)
    return f"{issued}.{nonce}.{_mac(api_key.encode(), 'session', issued, nonce)}"


def session_nonce(api_key: str, cookie: str | None, now: float | None = None) -> str | None:
    """The nonce of a valid, unexpired session cookie; None for anything else."""
    if not cookie or cookie.count(".") != 2:
        return None
    issued, nonce, mac = cookie.split(".")
    if not issued.isdigit():
        return None
    expected = _mac(api_key.encode(), "session", issued, nonce)
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    age = (now if now is not None else time.time()) - int(issued)
    return nonce if 0 <= age <= SESSION_SECONDS else None


def csrf_token(api_key: str | None, nonce: str | None) -> str:
    """The CSRF token pages carry: bound to the session (with a key), else to this process."""
    key = api_key.encode() if api_key else _PROCESS_SECRET
    return _mac(key, "csrf", nonce or "")


def valid_csrf(api_key: str | None, nonce: str | None, token: str | None) -> bool:
    """Whether `token` is the CSRF token of this session (constant time)."""
    if not token:
        return False
    return hmac.compare_digest(token.encode(), csrf_token(api_key, nonce).encode())
