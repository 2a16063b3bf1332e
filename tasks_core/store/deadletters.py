"""The dead-letter list: messages a worker could not run, set aside with the reason.

Entries (`tasks_core.messages.DeadLetter`) live in a HASH by id (`p:deadletter`) with a
time index (`p:deadletter:by-time`); adding one trims the oldest beyond the bound
(`settings.deadletter_max`) in the same script (deadletter_add.lua), and requeueing pushes
the raw message back onto its broker list and removes the entry in one step
(deadletter_requeue.lua).

Invariants: an entry is written before the message it holds is acked or removed from the
broker (the callers' order); an entry is never in the hash without its index entry, nor the
other way round.
"""

from __future__ import annotations

import re
from typing import Any

import redis

from tasks_core.messages import DeadLetter, raw_bytes
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["DeadLetterStore"]

_ID_PREFIX = re.compile(r"[0-9a-f]{1,32}")


class DeadLetterStore(KeyedStore):
    """Add, list, read, requeue and purge set-aside messages.

    Args:
        client: the ledger's Redis client.
        keys: the key builder of the stack's prefix.
        max_entries: the most entries kept; adding more drops the oldest (>= 1).
    """

    def __init__(self, client: redis.Redis, keys: Keys, *, max_entries: int) -> None:
        super().__init__(client, keys)
        self.max_entries = max_entries
        self._add = self.script("deadletter_add.lua")
        self._requeue = self.script("deadletter_requeue.lua")

    def add(self, entry: DeadLetter) -> int:
        """Set `entry` aside; how many of the oldest entries were dropped to keep the bound."""
        return int(self._add(keys=[self.keys.deadletters, self.keys.deadletters_by_time],
                             args=[entry.id, entry.to_json(), entry.time, self.max_entries]))

    def count(self) -> int:
        """How many entries there are."""
        return int(self.client.zcard(self.keys.deadletters_by_time))

    def entries(self, limit: int = 100) -> list[DeadLetter]:
        """The newest `limit` entries, newest first."""
        ids: Any = self.client.zrevrange(self.keys.deadletters_by_time, 0, max(limit, 1) - 1)
        if not ids:
            return []
        values: Any = self.client.hmget(self.keys.deadletters, ids)
        return [DeadLetter.from_json(v) for v in values if v is not None]

    def get(self, entry_id: str) -> DeadLetter | None:
        """The entry `entry_id`, or None."""
        value: Any = self.client.hget(self.keys.deadletters, entry_id)
        return DeadLetter.from_json(value) if value is not None else None

    def ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Up to `limit` entry ids that start with `prefix` (hex digits only, else none)."""
        if not _ID_PREFIX.fullmatch(prefix):
            return []
        found: list[str] = []
        for entry_id, _ in self.client.hscan_iter(self.keys.deadletters, match=f"{prefix}*",
                                                   count=1000):
            found.append(str(entry_id))
            if len(found) >= limit:
                break
        return found

    def requeue(self, entry: DeadLetter) -> bool:
        """Push the entry's raw message back onto its queue's list on this Redis (the
        direct broker) and remove the entry, atomically; False when it was gone already."""
        key = self.keys.broker_queue(entry.queue, entry.priority)
        return bool(self._requeue(keys=[self.keys.deadletters, self.keys.deadletters_by_time,
                                        key], args=[entry.id, raw_bytes(entry)]))

    def remove(self, entry_id: str) -> bool:
        """Forget one entry; whether it existed."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hdel(self.keys.deadletters, entry_id)
            pipe.zrem(self.keys.deadletters_by_time, entry_id)
            removed, _ = pipe.execute()
        return bool(removed)

    def purge(self) -> int:
        """Forget every entry; how many there were."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zcard(self.keys.deadletters_by_time)
            pipe.delete(self.keys.deadletters, self.keys.deadletters_by_time)
            count, _ = pipe.execute()
        return int(count)
