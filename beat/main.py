"""`tasks-core beat`: runs the periodic jobs (now: the sweeper) under a leader lock."""

from __future__ import annotations

import logging
import os
import socket
import threading

from beat import sweeper
from tasks_core.runtime import get_runtime
from tasks_core.store.runs import utcnow

__all__ = ["run_beat"]

log = logging.getLogger("tasks_core.beat")


def run_beat(*, stop: threading.Event | None = None, loglevel: str = "INFO") -> None:
    """Sweep every `sweep_interval_seconds` while holding the sweeper lock, until stopped."""
    logging.basicConfig(level=loglevel, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rt = get_runtime()
    stop = stop or threading.Event()
    me = f"{socket.gethostname()}:{os.getpid()}"
    lock = rt.store.keys.lock("sweeper")
    interval = rt.settings.sweep_interval_seconds
    ttl_ms = int(interval * 3000)
    log.info("beat started (%s); sweeping every %gs", me, interval)
    while not stop.is_set():
        holder = rt.client.set(lock, me, nx=True, px=ttl_ms) or rt.client.get(lock) == me
        if holder:
            rt.client.pexpire(lock, ttl_ms)
            report = sweeper.tick(rt, utcnow())
            if report.crashed or report.resent:
                log.info("sweep: %d recovered, %d re-sent", len(report.crashed),
                         len(report.resent))
        stop.wait(interval)
