"""`tasks-core beat`: schedules, deferred runs and the sweeper, under one leader lock.

Several beats may run; one holds the lock (`p:lock:beat`, refreshed every tick) and works,
the others stand by and take over within `3 x beat_interval_seconds` after the leader dies.
Every job takes `now`, so tests drive time without sleeping.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from beat import deferred, pools, scheduler, sweeper
from tasks_core.runtime import Runtime, get_runtime
from tasks_core.store.runs import utcnow

__all__ = ["is_leader", "run_beat"]

log = logging.getLogger("tasks_core.beat")

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""


def is_leader(rt: Runtime, me: str) -> bool:
    """Take or keep the beat lock (atomically); whether this process leads now."""
    ttl_ms = int(rt.settings.beat_interval_seconds * 3000)
    return bool(rt.client.eval(_RENEW, 1, rt.store.keys.lock("beat"), me, ttl_ms))


def run_beat(*, stop: threading.Event | None = None, loglevel: str = "INFO") -> None:
    """Run the beat loop until stopped."""
    logging.basicConfig(level=loglevel, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rt = get_runtime()
    stop = stop or threading.Event()
    me = f"{socket.gethostname()}:{os.getpid()}"
    interval = rt.settings.beat_interval_seconds
    next_sweep = 0.0
    log.info("beat started (%s)", me)
    while not stop.is_set():
        if is_leader(rt, me):
            now = utcnow()
            scheduler.tick(rt, now)
            deferred.tick(rt, utcnow())  # runs that fell due while the scheduler worked
            if time.monotonic() >= next_sweep:
                pools.tick(rt, now)
                report = sweeper.tick(rt, now)
                if report.crashed or report.resent:
                    log.info("sweep: %d recovered, %d re-sent", len(report.crashed),
                             len(report.resent))
                next_sweep = time.monotonic() + rt.settings.sweep_interval_seconds
        stop.wait(interval)
