"""Work pools in Redis: records, the gate a flow run passes before it runs, parked runs.

A pool's flow runs pass `acquire()` before a worker runs them: a paused pool, or one at
its concurrency limit, parks the run (it stays Pending, nothing is lost) until `resume()`
or a finishing run (`release()`) sends it again. Pools that do not exist as records are
open with no limit (the default pool needs no setup).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import redis

from tasks_core.deployment_models import WorkPool
from tasks_core.errors import WorkPoolNotFound
from tasks_core.store.keys import Keys

__all__ = ["WorkPoolStore"]

# KEYS[1] pool record (JSON), KEYS[2] running set, KEYS[3] parked zset
# ARGV[1] run id, ARGV[2] now (epoch seconds)
# Returns 1 when the run may start (added to the running set), 0 when it was parked.
_ACQUIRE = """
local text = redis.call('GET', KEYS[1])
if not text then
  return 1
end
local pool = cjson.decode(text)
local limit = tonumber(pool['concurrency_limit']) or 0
if pool['paused'] or (limit > 0 and redis.call('SCARD', KEYS[2]) >= limit
    and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0) then
  redis.call('ZADD', KEYS[3], 'NX', ARGV[2], ARGV[1])
  return 0
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""


class WorkPoolStore:
    """Create, read, pause and limit work pools; gate their flow runs."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self._acquire = client.register_script(_ACQUIRE)

    def _key(self, name: str) -> str:
        return f"{self.keys.prefix}:work-pool:{name}"

    def running_key(self, name: str) -> str:
        return f"{self.keys.prefix}:work-pool:{name}:running"

    def parked_key(self, name: str) -> str:
        return f"{self.keys.prefix}:work-pool:{name}:parked"

    def save(self, pool: WorkPool) -> WorkPool:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self._key(pool.name), pool.model_dump_json())
            pipe.sadd(f"{self.keys.prefix}:work-pools", pool.name)
            pipe.execute()
        return pool

    def get(self, name: str) -> WorkPool:
        text = self.client.get(self._key(name))
        if text is None:
            raise WorkPoolNotFound(f"work pool {name!r} not found (create it with "
                                   f"`tasks-core work-pool create {name}`)")
        return WorkPool.model_validate_json(text)

    def list_pools(self) -> list[WorkPool]:
        names = sorted(str(n) for n in self.client.smembers(f"{self.keys.prefix}:work-pools"))
        return [self.get(n) for n in names if self.client.exists(self._key(n))]

    def update(self, name: str, **changes: Any) -> WorkPool:
        """Change fields of an existing pool (WorkPoolNotFound when there is none)."""
        pool = self.get(name).model_copy(update=changes)
        return self.save(WorkPool.model_validate(pool.model_dump()))

    def acquire(self, pool: str, run_id: str) -> bool:
        """Whether the run may start now; False: it was parked (paused or at the limit)."""
        now = datetime.now(UTC).timestamp()
        return bool(self._acquire(keys=[self._key(pool), self.running_key(pool),
                                        self.parked_key(pool)], args=[run_id, now]))

    def release(self, pool: str, run_id: str) -> list[str]:
        """A run of the pool ended; the parked runs that may now be sent again."""
        self.client.srem(self.running_key(pool), run_id)
        return self.parked(pool, limit=1)

    def parked(self, pool: str, *, limit: int = 1000) -> list[str]:
        """Parked run ids, oldest first."""
        return [str(v) for v in self.client.zrange(self.parked_key(pool), 0, limit - 1)]

    def running(self, pool: str) -> list[str]:
        return sorted(str(v) for v in self.client.smembers(self.running_key(pool)))

    def workers_key(self, name: str) -> str:
        return f"{self.keys.prefix}:work-pool:{name}:workers"

    def beat(self, pool: str, worker: str, now: float) -> None:
        """A worker of the pool is alive at `now` (epoch seconds)."""
        self.client.zadd(self.workers_key(pool), {worker: now})

    def live_workers(self, pool: str, now: float, timeout: float) -> list[str]:
        """Workers of the pool that beat within `timeout` seconds of `now`."""
        key = self.workers_key(pool)
        self.client.zremrangebyscore(key, "-inf", now - timeout * 10)  # forget long-gone ones
        return [str(v) for v in self.client.zrangebyscore(key, now - timeout, "+inf")]

    def pools_seen(self) -> list[str]:
        """Pools that have records or workers."""
        names = {str(n) for n in self.client.smembers(f"{self.keys.prefix}:work-pools")}
        prefix = f"{self.keys.prefix}:work-pool:"
        for key in self.client.scan_iter(f"{prefix}*:workers"):
            names.add(str(key)[len(prefix):-len(":workers")])
        return sorted(names)

    def status_changed(self, pool: str, ready: bool) -> bool:
        """Record the pool's readiness; whether it changed (so an event is due)."""
        key = f"{self.keys.prefix}:work-pool:{pool}:ready"
        previous = self.client.getset(key, "1" if ready else "0")
        return previous != ("1" if ready else "0")

    def emit(self, pool: str, event: str, payload: dict[str, Any] | None = None) -> None:
        """Append a `tasks-core.work-pool.<event>` event to the stream."""
        now = datetime.now(UTC).isoformat()
        body: dict[str, Any] = {"id": str(uuid.uuid4()), "occurred": now, "received": now,
                "event": f"tasks-core.work-pool.{event}",
                "resource": {"tasks-core.resource.id": f"tasks-core.work-pool.{pool}",
                             "tasks-core.resource.name": pool},
                "related": [], "payload": payload or {}, "follows": None}
        self.client.xadd(self.keys.events, {"event": json.dumps(body)}, maxlen=100_000,
                         approximate=True)
