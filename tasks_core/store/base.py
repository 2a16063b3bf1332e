"""What every store class shares: the Redis client, the key builder, and Lua scripts.

Each Lua script lives in its own `.lua` file next to this module (shipped as package data)
and opens with a header naming the KEYS and ARGV it takes and what it returns, as
create.lua and transition.lua do; `load_lua` reads one, `KeyedStore.script` registers it.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import redis
from redis.commands.core import Script

from tasks_core.store.keys import Keys

__all__ = ["KeyedStore", "glob_escape", "load_lua", "score_text"]


def load_lua(name: str) -> str:
    """The text of the Lua script `name` (a file of tasks_core.store)."""
    return resources.files("tasks_core.store").joinpath(name).read_text()


def glob_escape(text: str) -> str:
    """`text` with Redis glob characters (``* ? [ ] \\``) escaped, to MATCH it literally."""
    return "".join(f"\\{ch}" if ch in "*?[]\\" else ch for ch in text)


def score_text(score: bytes | str) -> str:
    """A sorted-set score exactly as Redis wrote it, for compare-and-set in Lua
    (`score_cast_func` of redis-py, which hands it raw bytes)."""
    return score.decode() if isinstance(score, bytes) else str(score)


class KeyedStore:
    """A store class: one job over a few keys of one Redis and one key prefix.

    Attributes:
        client: the ledger's Redis client (`tasks_core.store.connection.connect`).
        keys: the key builder of the prefix in use.
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    def script(self, name: str) -> Script:
        """Register the Lua file `name` (run by EVALSHA, loaded again if Redis lost it)."""
        return self.client.register_script(load_lua(name))

    def read_until(self, key: str, max_score: float, limit: int) -> list[tuple[str, str]]:
        """The oldest `limit` members of the sorted set `key` scored at most `max_score`,
        with their scores exactly as Redis wrote them (for a compare-and-set in Lua)."""
        raw: Any = self.client.zrangebyscore(key, "-inf", max_score, 0, limit,
                                             withscores=True, score_cast_func=score_text)
        return [(str(member), str(score)) for member, score in raw]
