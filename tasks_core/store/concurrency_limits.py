"""Concurrency limits in Redis: a record per limit, its leases, and the Lua that takes,
gives back and renews slots atomically (tasks_core.concurrency).

    p:concurrency-limits               SET   every limit's name
    p:concurrency-limit:<name>         HASH  name, limit, slot_decay_per_second,
                                             active_slots, settled_ms, denied_slots, created
    p:concurrency-limit:<name>:leases  ZSET  lease id -> expiry (Redis time, ms)
    p:concurrency-limit:<name>:holders HASH  lease id -> "<slots>|<taken at ms>"

Slots are taken by concurrency_acquire.lua (all limits of one call or none), given back by
concurrency_release.lua, and a holder's lease is pushed back by concurrency_renew.lua; a
lease not renewed expires and its slots come back at the next acquire or peek on that limit
(so a killed process frees its slots). Time is Redis's own. This store holds raw fields;
the model and its checks are `tasks_core.concurrency.limits`'.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import redis

from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["AcquireReply", "ConcurrencyLimitStore", "Mode"]

Mode = Literal["concurrency", "rate_limit", "peek"]
"""How `acquire` takes slots: held under a lease, taken to decay, or not at all."""


class AcquireReply(NamedTuple):
    """What `acquire` did.

    Attributes:
        status: ``ok`` (taken), ``wait`` (not now), ``too-many`` (a limit is below the
            slots asked), ``no-decay`` (rate_limit on a limit without slot decay).
        detail: for ``wait``, milliseconds until a retry may succeed (0: unknown); for
            ``too-many`` / ``no-decay``, the name of the limit.
        missing: names asked for that are not limits (skipped).
    """

    status: str
    detail: str | int
    missing: tuple[str, ...]


class ConcurrencyLimitStore(KeyedStore):
    """Create, read, list, reset and delete limits; acquire, release and renew slots."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._create = self.script("concurrency_create.lua")
        self._acquire = self.script("concurrency_acquire.lua")
        self._release = self.script("concurrency_release.lua")
        self._renew = self.script("concurrency_renew.lua")

    def _triples(self, names: list[str]) -> list[str]:
        keys: list[str] = []
        for name in names:
            keys += [self.keys.concurrency_limit(name), self.keys.concurrency_leases(name),
                     self.keys.concurrency_holders(name)]
        return keys

    def create(self, name: str, limit: int, decay: float, created: str) -> bool:
        """Create the limit `name`; False when the name exists."""
        return bool(self._create(keys=[self.keys.concurrency_limit(name),
                                       self.keys.concurrency_limits],
                                 args=[name, limit, repr(float(decay)), created]))

    def acquire(self, names: list[str], lease_id: str, occupy: int, lease_ms: int,
                mode: Mode) -> AcquireReply:
        """Take `occupy` slots of every limit in `names` (those that exist), or none."""
        raw: Any = self._acquire(keys=self._triples(names),
                                 args=[lease_id, occupy, lease_ms, mode])
        status = str(raw[0])
        missing = tuple(names[int(i) - 1] for i in raw[2:])
        if status in ("too-many", "no-decay"):
            return AcquireReply(status, names[int(raw[1]) - 1], missing)
        return AcquireReply(status, int(raw[1]), missing)

    def release(self, names: list[str], lease_id: str) -> int:
        """Give back the slots lease `lease_id` holds; how many limits had it."""
        return int(self._release(keys=self._triples(names), args=[lease_id]))

    def renew(self, names: list[str], lease_id: str, lease_ms: int) -> int:
        """Push the lease's expiry to `lease_ms` from now; how many limits still had it."""
        return int(self._renew(keys=[self.keys.concurrency_leases(n) for n in names],
                               args=[lease_id, lease_ms]))

    def read(self, name: str) -> dict[str, str] | None:
        """The record of limit `name` after settling it (expired leases and decay), with
        ``holders`` (leases held): raw fields, or None when there is no such limit."""
        self.acquire([name], "-", 0, 0, "peek")
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self.keys.concurrency_limit(name))
        pipe.zcard(self.keys.concurrency_leases(name))
        fields, holders = pipe.execute()
        if not fields:
            return None
        return {**{str(k): str(v) for k, v in fields.items()}, "holders": str(holders)}

    def names(self) -> list[str]:
        """Every limit's name, sorted."""
        raw: Any = self.client.smembers(self.keys.concurrency_limits)
        return sorted(str(n) for n in raw)

    def reset(self, name: str) -> bool:
        """Free every slot of `name` (its leases are dropped: their holders lose them);
        False when there is no such limit."""
        if not self.client.exists(self.keys.concurrency_limit(name)):
            return False
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.concurrency_leases(name), self.keys.concurrency_holders(name))
        pipe.hset(self.keys.concurrency_limit(name),
                  mapping={"active_slots": "0", "denied_slots": "0"})
        pipe.execute()
        return True

    def delete(self, name: str) -> bool:
        """Remove the limit `name` and its leases; False when there was none."""
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.concurrency_limit(name))
        pipe.delete(self.keys.concurrency_leases(name), self.keys.concurrency_holders(name))
        pipe.srem(self.keys.concurrency_limits, name)
        return bool(pipe.execute()[0])
