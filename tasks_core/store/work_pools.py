"""Work pools in Redis: records, the gate a flow run passes before it runs, parked runs.

A pool's flow runs pass `acquire()` before a worker runs them (acquire_slot.lua): a paused
pool, or one at its concurrency limit, parks the run (it stays Pending, nothing is lost)
until `resume()` or a finishing run (`release()`) sends it again. Pools that do not exist
as records are open with no limit (the default pool needs no setup). The heartbeats of a
pool's workers are kept by `tasks_core.store.heartbeats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import redis

from tasks_core.deployment_models import WorkPool
from tasks_core.errors import WorkPoolNotFound
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["WorkPoolStore"]


class WorkPoolStore(KeyedStore):
    """Create, read, pause and limit work pools; gate their flow runs."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._acquire = self.script("acquire_slot.lua")

    def save(self, pool: WorkPool) -> WorkPool:
        """Create or replace the pool's record."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.work_pool(pool.name), pool.model_dump_json())
            pipe.sadd(self.keys.work_pools, pool.name)
            pipe.execute()
        return pool

    def get(self, name: str) -> WorkPool:
        """The pool's record; WorkPoolNotFound (saying how to create it) when there is none."""
        text = self.client.get(self.keys.work_pool(name))
        if text is None:
            raise WorkPoolNotFound(f"work pool {name!r} not found (create it with "
                                   f"`tasks-core work-pool create {name}`)")
        return WorkPool.model_validate_json(text)

    def names(self) -> list[str]:
        """Names of the pools that have records, sorted."""
        return sorted(str(n) for n in self.client.smembers(self.keys.work_pools))

    def list_pools(self) -> list[WorkPool]:
        """Every pool that has a record, by name."""
        return [self.get(n) for n in self.names()
                if self.client.exists(self.keys.work_pool(n))]

    def update(self, name: str, **changes: Any) -> WorkPool:
        """Change fields of an existing pool (WorkPoolNotFound when there is none)."""
        pool = self.get(name).model_copy(update=changes)
        return self.save(WorkPool.model_validate(pool.model_dump()))

    def acquire(self, pool: str, run_id: str) -> bool:
        """Whether the run may start now; False: it was parked (paused or at the limit)."""
        now = datetime.now(UTC).timestamp()
        keys = self.keys
        return bool(self._acquire(keys=[keys.work_pool(pool), keys.work_pool_running(pool),
                                        keys.work_pool_parked(pool)], args=[run_id, now]))

    def release(self, pool: str, run_id: str) -> list[str]:
        """A run of the pool ended; the parked runs that may now be sent again."""
        self.client.srem(self.keys.work_pool_running(pool), run_id)
        return self.parked(pool, limit=1)

    def parked(self, pool: str, *, limit: int = 1000) -> list[str]:
        """Parked run ids, oldest first."""
        key = self.keys.work_pool_parked(pool)
        return [str(v) for v in self.client.zrange(key, 0, limit - 1)]

    def running(self, pool: str) -> list[str]:
        """Ids of the pool's flow runs that hold a slot, sorted."""
        return sorted(str(v) for v in self.client.smembers(self.keys.work_pool_running(pool)))

    def counts(self, names: Sequence[str]) -> list[tuple[int, int]]:
        """(running, parked) counts of each pool, in one round trip."""
        with self.client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.scard(self.keys.work_pool_running(name))
                pipe.zcard(self.keys.work_pool_parked(name))
            replies = pipe.execute()
        return [(int(replies[i]), int(replies[i + 1])) for i in range(0, len(replies), 2)]

    def status_changed(self, pool: str, ready: bool) -> bool:
        """Record the pool's readiness; whether it changed (so an event is due)."""
        previous = self.client.getset(self.keys.work_pool_ready(pool), "1" if ready else "0")
        return previous != ("1" if ready else "0")
