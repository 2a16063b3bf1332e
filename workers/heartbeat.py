"""Heartbeats: each worker process proves it is alive by refreshing a key with a TTL, and
reports by them its own contact with Redis (`tasks_core.engine.contact`)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from tasks_core.engine.claim import given_up
from tasks_core.engine.recovery import settle_given_up
from tasks_core.errors import StoreUnavailable
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.store.connection import StoreError
from workers.nodes import HeldNode

__all__ = ["start_heartbeat", "start_pool_heartbeat"]

log = logging.getLogger("tasks_core.worker")


def start_heartbeat() -> threading.Event:
    """Start this process's heartbeat thread; set the returned event to stop it."""
    rt = get_runtime()
    stop = threading.Event()
    procs, owner, contact = rt.procs, rt.owner, rt.contact
    settler = _Settler(rt)
    ttl_ms = int(rt.settings.heartbeat_timeout_seconds * 1000)
    interval = rt.settings.heartbeat_interval_seconds

    def beat() -> None:
        while not stop.is_set():
            try:
                procs.beat(owner, ttl_ms)
                contact.ok()  # this process judges others' heartbeats by it
                if given_up():  # claims given up while Redis was away: Redis is back
                    settler.start()
            except Exception as exc:  # away, or answering errors (a replica after a failover)
                contact.lost()
                log.warning("heartbeat not written: %s", exc)
            stop.wait(interval)
        with contextlib.suppress(StoreUnavailable, OSError):
            procs.clear(owner)

    threading.Thread(target=beat, name="tasks-core-heartbeat", daemon=True).start()
    return stop


class _Settler:
    """Settles claims given up while Redis was away (`engine.recovery.settle_given_up`) on a
    thread of its own, one at a time: recovering a run can take a while (its hooks are
    user code), and the heartbeat must go on meanwhile."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return
        self.thread = threading.Thread(target=self._settle, name="tasks-core-settle",
                                       daemon=True)
        self.thread.start()

    def _settle(self) -> None:
        try:
            settle_given_up(self.rt)  # each run's own error is logged there
        except Exception as exc:  # Redis away again: the next heartbeat tries again
            log.warning("claims given up while Redis was away not settled yet: %s", exc)


def start_pool_heartbeat(pools: list[str], node: HeldNode) -> threading.Event:
    """The worker's main process tells each pool it serves that it is alive, and keeps
    its node name (with what `tasks-core worker ls` shows)."""
    rt = get_runtime()
    stop = threading.Event()
    procs = rt.procs

    def beat() -> None:
        while not stop.is_set():
            try:
                now = time.time()
                node.renew(rt, now)
                for pool in pools:
                    procs.pool_beat(pool, node.name, now)
            except Exception as exc:  # Redis away, or refusing writes (full: OOM): the
                # thread lives on, and the next beat tries again
                log.warning("pool heartbeat not written: %s", exc,
                            exc_info=not isinstance(exc, StoreError | OSError))
            stop.wait(rt.settings.heartbeat_interval_seconds)

    threading.Thread(target=beat, name="tasks-core-pool-heartbeat", daemon=True).start()
    return stop
