"""Redis connections: the configured URL, else the embedded Redis, with clear errors."""

from __future__ import annotations

import threading
import time

import redis

from tasks_core.errors import StoreUnavailable
from tasks_core.settings import Settings

__all__ = ["connect", "redis_url", "safe_url"]

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def redis_url(settings: Settings) -> str:
    """The Redis URL in use: the configured one, else the embedded server's (started if need be)."""
    if settings.redis_url:
        return settings.redis_url
    from tasks_core.store.embedded import ensure_embedded

    return ensure_embedded(settings).url


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def connect(settings: Settings, *, retries: int | None = None) -> redis.Redis:
    """A shared client for this process, checked with PING.

    Retries with exponential backoff (settings.connect_retries), then raises StoreUnavailable
    naming the URL.
    """
    url = redis_url(settings)
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
            _clients[url] = client
    attempts = settings.connect_retries if retries is None else retries
    delay = 0.1
    for attempt in range(attempts + 1):
        try:
            client.ping()
            return client
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            if attempt == attempts:
                raise StoreUnavailable(
                    f"cannot reach Redis at {safe_url(url)}: {exc} "
                    "(is redis-server running? set TASKS_CORE_REDIS_URL, or unset it for the "
                    "embedded Redis)"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")
