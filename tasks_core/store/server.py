"""The Redis server itself: is it there, and is it set up for production (no eviction)."""

from __future__ import annotations

from typing import Any

import redis

from tasks_core.errors import StoreUnavailable
from tasks_core.store.connection import safe_url

__all__ = ["ServerInfo", "read_server_info"]


class ServerInfo:
    """Ask a Redis server about itself."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def ping(self) -> bool:
        """PING it (StoreUnavailable when the ledger's Redis cannot be reached)."""
        return bool(self.client.ping())

    def maxmemory_policy(self) -> str | None:
        """Its maxmemory-policy (``noeviction`` in production), None when it does not say."""
        value = self.client.config_get("maxmemory-policy").get("maxmemory-policy")
        return None if value is None else str(value)

    def info(self) -> dict[str, Any]:
        """INFO (server, memory and persistence sections), with ``maxmemory_policy``."""
        info: dict[str, Any] = self.client.info()
        if "maxmemory_policy" not in info:  # INFO of some servers lacks it; CONFIG may not
            policy = self.maxmemory_policy()
            info["maxmemory_policy"] = "unknown" if policy is None else policy
        return info


def read_server_info(url: str, *, timeout: float) -> dict[str, Any]:
    """INFO of the Redis at `url`, on a connection of its own that gives up after `timeout`
    seconds (no retries: `tasks-core redis` reports, it does not wait).

    Raises:
        StoreUnavailable: it cannot be reached; the message names the masked URL.
    """
    client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=timeout,
                                  socket_timeout=timeout)
    try:
        return ServerInfo(client).info()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise StoreUnavailable(f"cannot reach Redis at {safe_url(url)}: {exc}") from exc
    finally:
        client.close()
