"""Heartbeats: worker processes and work-pool workers prove they are alive.

Each worker process refreshes its key (`p:proc:<host>:<pid>`) with a TTL: while it exists,
the runs the process owns are not recovered as crashed. Each worker's main process also
beats per pool it serves (`p:work-pool:<name>:workers`, scored by time): a pool with a
recent beat is ready.
"""

from __future__ import annotations

from tasks_core.store.base import KeyedStore

__all__ = ["Heartbeats"]

_FORGET_AFTER = 10
"""Pool workers silent for this many heartbeat timeouts are dropped from the pool's set."""


class Heartbeats(KeyedStore):
    """Write and read the heartbeats of worker processes and of pool workers."""

    # -- worker processes (owners of runs) ------------------------------------------------

    def beat(self, owner: str, ttl_ms: int) -> None:
        """The process `owner` (``host:pid``) is alive for `ttl_ms` more milliseconds."""
        self.client.set(self.keys.proc(owner), "1", px=ttl_ms)

    def clear(self, owner: str) -> None:
        """The process `owner` is stopping: forget its heartbeat now."""
        self.client.delete(self.keys.proc(owner))

    def alive(self, owner: str) -> bool:
        """Whether the process `owner` has beaten within its TTL."""
        return bool(self.client.exists(self.keys.proc(owner)))

    def count(self) -> int:
        """How many worker processes (of every host) are alive now."""
        return sum(1 for _ in self.client.scan_iter(self.keys.proc_pattern))

    # -- pool workers ---------------------------------------------------------------------

    def pool_beat(self, pool: str, worker: str, now: float) -> None:
        """A worker of the pool is alive at `now` (epoch seconds)."""
        self.client.zadd(self.keys.work_pool_workers(pool), {worker: now})

    def pool_workers(self, pool: str, now: float, timeout: float) -> list[str]:
        """Workers of the pool that beat within `timeout` seconds of `now`."""
        key = self.keys.work_pool_workers(pool)
        self.client.zremrangebyscore(key, "-inf", now - timeout * _FORGET_AFTER)
        return [str(v) for v in self.client.zrangebyscore(key, now - timeout, "+inf")]

    def pools_with_workers(self) -> list[str]:
        """Pools that have workers (alive or not yet forgotten)."""
        return [self.keys.pool_of_workers_key(str(key))
                for key in self.client.scan_iter(self.keys.work_pool_workers_pattern)]
