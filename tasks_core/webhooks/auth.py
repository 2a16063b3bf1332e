"""Webhook authentication (pure: headers, body, secret and the time in; a verdict out).

Every webhook has a secret, ``whsec_<base64 of 32 random bytes>`` (`new_secret`), shown
once by create and rotate-secret. Schemes:

- ``bearer``: ``Authorization: Bearer <secret>``, the whole secret string.
- ``hmac``, the Standard Webhooks scheme: headers ``webhook-id``, ``webhook-timestamp``
  (epoch seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256 of
  "<id>.<timestamp>.<body>">`` (several, space separated, allowed; one must match). The key
  is the base64 after ``whsec_``; the timestamp must be within `TOLERANCE_SECONDS` of now
  either way; the id is returned so the caller refuses a replay of it for
  `REPLAY_TTL_SECONDS`.
- ``github``: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``, keyed by
  the whole secret string (as pasted in GitHub's webhook settings).
- ``none``: nothing is checked (chosen on purpose with ``--auth none``).

Every comparison is constant-time (`hmac.compare_digest`). A failure raises `AuthFailed`
with a reason that names what was missing or wrong, never the expected value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

__all__ = ["MESSAGE_ID_MAX", "REPLAY_TTL_SECONDS", "SECRET_BYTES", "SECRET_PREFIX",
           "TOLERANCE_SECONDS", "AuthFailed", "check_bearer", "check_github", "check_hmac",
           "github_signature", "hmac_key", "hmac_signature", "new_secret", "verify"]

SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300
"""How far a Standard Webhooks timestamp may be from now, either way (5 minutes)."""
REPLAY_TTL_SECONDS = 2 * TOLERANCE_SECONDS
"""How long an accepted message id is remembered: the span its timestamp is valid in."""
MESSAGE_ID_MAX = 256
"""Longest ``webhook-id`` accepted (characters)."""


class AuthFailed(Exception):
    """A request failed its webhook's authentication (401); `reason` says what was wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_secret() -> str:
    """A new secret: ``whsec_`` and the base64 of `SECRET_BYTES` random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def check_bearer(headers: Mapping[str, str], secret: str) -> None:
    """``Authorization: Bearer <secret>``.

    Raises:
        AuthFailed: the header is missing, not Bearer, or holds another token.
    """
    value = headers.get("authorization")
    if not value:
        raise AuthFailed("missing Authorization header (send Authorization: Bearer <secret>)")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not _same(token.strip(), secret):
        raise AuthFailed("wrong bearer token")


def github_signature(secret: str, body: bytes) -> str:
    """GitHub's ``X-Hub-Signature-256`` value for `body`: ``sha256=<hex HMAC-SHA256>``,
    keyed by the secret string's UTF-8 bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_github(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """``X-Hub-Signature-256`` over the raw body.

    Raises:
        AuthFailed: the header is missing or the signature does not match.
    """
    given = headers.get("x-hub-signature-256")
    if not given:
        raise AuthFailed("missing X-Hub-Signature-256 header")
    if not _same(given.strip(), github_signature(secret, body)):
        raise AuthFailed("X-Hub-Signature-256 does not match the body")


def hmac_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after ``whsec_``."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise AuthFailed("the webhook's secret is not whsec_<base64>: rotate it") from None


def hmac_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """A Standard Webhooks signature: ``v1,<base64 HMAC-SHA256 of "<id>.<ts>.<body>">``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(hmac_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def check_hmac(headers: Mapping[str, str], body: bytes, secret: str, now: float) -> str:
    """The Standard Webhooks scheme; the message id (``webhook-id``) to refuse replays of.

    Raises:
        AuthFailed: a header missing, a bad or stale timestamp, no matching ``v1``
            signature.
    """
    message_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    missing = [name for name, value in (("webhook-id", message_id),
                                        ("webhook-timestamp", stamp),
                                        ("webhook-signature", signatures)) if not value]
    if missing:
        raise AuthFailed(f"missing header(s) {', '.join(missing)} (Standard Webhooks)")
    if len(message_id) > MESSAGE_ID_MAX or not message_id.isprintable() or " " in message_id:
        raise AuthFailed(f"webhook-id must be at most {MESSAGE_ID_MAX} printable characters "
                         "without spaces")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise AuthFailed("webhook-timestamp is not an integer (epoch seconds)") from None
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise AuthFailed(f"webhook-timestamp is more than {TOLERANCE_SECONDS} s from the "
                         "server's time")
    expected = hmac_signature(secret, message_id, timestamp, body)
    matched = False
    for given in signatures.split():
        matched |= given.startswith("v1,") and _same(given, expected)
    if not matched:
        raise AuthFailed("no webhook-signature matches (v1, HMAC-SHA256 of id.timestamp.body)")
    return message_id


def verify(scheme: str, headers: Mapping[str, str], body: bytes, secret: str,
           now: float) -> str | None:
    """Check a request against its webhook's `scheme`; the Standard Webhooks message id
    for ``hmac`` (the caller refuses a replay of it), else None.

    Args:
        headers: the request's headers, keys in lower case (or a case-insensitive mapping).
        body: the raw body, as received.
        now: the time (epoch seconds).

    Raises:
        AuthFailed: the request does not authenticate.
    """
    if scheme == "bearer":
        check_bearer(headers, secret)
    elif scheme == "github":
        check_github(headers, body, secret)
    elif scheme == "hmac":
        return check_hmac(headers, body, secret, now)
    elif scheme != "none":
        raise AuthFailed(f"unknown auth scheme {scheme!r}")
    return None
