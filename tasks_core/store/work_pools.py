"""Work pools in Redis: records, the gate a flow run passes before it runs, parked runs.

A pool's flow runs pass `acquire()` before a worker runs them (acquire_slot.lua): a paused
pool, a paused work queue of it (`WorkPool.paused_queues`), or a pool at its concurrency
limit parks the run (it stays Pending, nothing is lost) until a resume or a finishing run
(`release()`) sends it again. Records change by compare-and-set (WATCH), so two changes
at once (pausing two queues) both stay. Pools that do not exist as records are open with
no limit (the default pool needs no setup). The heartbeats of a pool's workers are kept by
`tasks_core.store.heartbeats`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
        return _parse(name, self.client.get(self.keys.work_pool(name)))

    def names(self) -> list[str]:
        """Names of the pools that have records, sorted."""
        return sorted(str(n) for n in self.client.smembers(self.keys.work_pools))

    def list_pools(self) -> list[WorkPool]:
        """Every pool that has a record, by name."""
        return [self.get(n) for n in self.names()
                if self.client.exists(self.keys.work_pool(n))]

    def update(self, name: str, **changes: Any) -> WorkPool:
        """Change fields of an existing pool (WorkPoolNotFound when there is none;
        pydantic's ValidationError for a bad value)."""
        return self.change(name, lambda _: changes)

    def change(self, name: str, changes: Callable[[WorkPool], dict[str, Any]]) -> WorkPool:
        """Change an existing pool by `changes(current) -> {field: value}`, atomically: it
        is called again when another process changed the record meanwhile.

        Raises:
            WorkPoolNotFound: no such pool.
            pydantic.ValidationError: a changed field is not valid.
        """
        key = self.keys.work_pool(name)

        def write(pipe: Any) -> WorkPool:
            pool = _parse(name, pipe.get(key))
            pool = WorkPool.model_validate(pool.model_copy(update=changes(pool)).model_dump())
            pipe.multi()
            pipe.set(key, pool.model_dump_json())
            pipe.sadd(self.keys.work_pools, name)
            return pool

        result = self.client.transaction(write, key,  # type: ignore[arg-type]
                                         value_from_callable=True)
        assert isinstance(result, WorkPool)
        return result

    def set_queue_paused(self, name: str, queue: str, paused: bool) -> WorkPool:
        """Add `queue` to (or drop it from) the pool's paused work queues.

        Raises:
            WorkPoolNotFound: no such pool.
            pydantic.ValidationError: `queue` is not a valid work queue name.
        """
        def queues(pool: WorkPool) -> dict[str, Any]:
            rest = [q for q in pool.paused_queues if q != queue]
            return {"paused_queues": [*rest, queue] if paused else rest}
        return self.change(name, queues)

    def acquire(self, pool: str, run_id: str, work_queue: str = "") -> bool:
        """Whether the run may start now; False: it was parked (its pool or its work queue
        paused, or the pool at its limit). `work_queue`: ``high`` of ``pool:high``, ""
        for the pool's own queue."""
        now = datetime.now(UTC).timestamp()
        keys = self.keys
        return bool(self._acquire(keys=[keys.work_pool(pool), keys.work_pool_running(pool),
                                        keys.work_pool_parked(pool)],
                                  args=[run_id, now, work_queue]))

    def release(self, pool: str, run_id: str) -> list[str]:
        """A run of the pool ended; the parked run that may now take its slot (the oldest
        one, among the first 1,000, that no paused work queue holds), or none. Runs beyond
        are sent again by resumes, limit changes and beat's sweeper."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.srem(self.keys.work_pool_running(pool), run_id)
            pipe.get(self.keys.work_pool(pool))
            pipe.zrange(self.keys.work_pool_parked(pool), 0, 0)
            _, text, oldest = pipe.execute()
        held = set(WorkPool.model_validate_json(text).paused_queues) if text else set()
        if not held:
            return [str(v) for v in oldest]
        return self._first_not_held(pool, held)

    def _first_not_held(self, pool: str, held: set[str]) -> list[str]:
        parked = self.parked(pool)
        with self.client.pipeline(transaction=False) as pipe:
            for run_id in parked:
                pipe.hget(self.keys.run(run_id), "queue")
            queues = pipe.execute()
        for run_id, queue in zip(parked, queues, strict=True):
            if str(queue or "").partition(":")[2] not in held:
                return [run_id]
        return []

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


def _parse(name: str, text: Any) -> WorkPool:
    if text is None:
        raise WorkPoolNotFound(f"work pool {name!r} not found (create it with "
                               f"`tasks-core work-pool create {name}`)")
    return WorkPool.model_validate_json(text)
