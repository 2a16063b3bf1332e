"""Leader locks: one process of a kind works (beat), the others stand by.

A lock (`p:lock:<name>`) holds its holder's id and expires unless renewed, so a standby
takes over within one TTL of the leader's death. Renewing and taking are one script
(renew_lock.lua): two contenders can never both hold the lock.
"""

from __future__ import annotations

import redis

from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["BEAT_LOCK", "LeaderLocks"]

BEAT_LOCK = "beat"
"""The lock the leading beat holds; while it is held, runs left in the due set get sent."""


class LeaderLocks(KeyedStore):
    """Hold, renew and check leader locks."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._renew = self.script("renew_lock.lua")

    def hold(self, name: str, holder: str, ttl_ms: int, *, take: bool = True) -> bool:
        """Renew the lock when `holder` has it, or take it when free (unless `take` is
        False); whether `holder` holds it now, for `ttl_ms` more milliseconds."""
        return bool(self._renew(keys=[self.keys.lock(name)],
                                args=[holder, ttl_ms, "1" if take else "0"]))

    def held(self, name: str) -> bool:
        """Whether anyone holds the lock now (e.g. `held(BEAT_LOCK)`: a beat is running)."""
        return bool(self.client.exists(self.keys.lock(name)))
