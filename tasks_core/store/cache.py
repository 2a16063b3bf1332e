"""The task result cache: a result's JSON under its cache key (`p:cache:<key>`), with a TTL."""

from __future__ import annotations

from tasks_core.store.base import KeyedStore

__all__ = ["ResultCache"]


class ResultCache(KeyedStore):
    """Read and write cached task results (see tasks_core.engine.caching)."""

    def get(self, key: str) -> str | None:
        """The cached result JSON of `key`, or None (never cached, or expired)."""
        value = self.client.get(self.keys.cache(key))
        return None if value is None else str(value)

    def put(self, key: str, result_json: str, ttl_seconds: int) -> None:
        """Keep `result_json` under `key` for `ttl_seconds` (at least one second)."""
        self.client.set(self.keys.cache(key), result_json, ex=max(1, ttl_seconds))
