"""Work-pool readiness: a pool is ready while a worker of it heartbeats.

`tick(rt, now)` emits `tasks-core.work-pool.ready` / `not-ready` when a pool's readiness
changes (a worker pool heartbeat is refreshed every `heartbeat_interval_seconds`; silent
for `heartbeat_timeout_seconds`, the worker counts as gone).
"""

from __future__ import annotations

from datetime import datetime

from tasks_core.events.internal import work_pool_event
from tasks_core.process_runtime import Runtime

__all__ = ["tick"]


def tick(rt: Runtime, now: datetime) -> dict[str, bool]:
    """Readiness of every known pool; events for the ones that changed."""
    store = rt.pools
    readiness = {}
    for pool in sorted({*store.names(), *rt.procs.pools_with_workers()}):  # records or workers
        workers = rt.procs.pool_workers(pool, now.timestamp(),
                                        rt.settings.heartbeat_timeout_seconds)
        ready = bool(workers)
        readiness[pool] = ready
        if store.status_changed(pool, ready):
            work_pool_event(pool, "ready" if ready else "not-ready", {"workers": workers})
    return readiness
