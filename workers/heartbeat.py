"""Heartbeats: each worker process proves it is alive by refreshing a key with a TTL."""

from __future__ import annotations

import contextlib
import logging
import threading

import redis

from tasks_core.runtime import get_runtime

__all__ = ["start_heartbeat", "start_pool_heartbeat"]

log = logging.getLogger("tasks_core.worker")


def start_heartbeat() -> threading.Event:
    """Start this process's heartbeat thread; set the returned event to stop it."""
    rt = get_runtime()
    stop = threading.Event()
    key = rt.store.keys.proc(rt.owner)
    ttl_ms = int(rt.settings.heartbeat_timeout_seconds * 1000)
    interval = rt.settings.heartbeat_interval_seconds

    def beat() -> None:
        while not stop.is_set():
            try:
                rt.client.set(key, "1", px=ttl_ms)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                log.warning("heartbeat not written: %s", exc)
            stop.wait(interval)
        with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, OSError):
            rt.client.delete(key)

    threading.Thread(target=beat, name="tasks-core-heartbeat", daemon=True).start()
    return stop


def start_pool_heartbeat(pools: list[str], worker: str) -> threading.Event:
    """The worker's main process tells each pool it serves that it is alive."""
    import time

    from tasks_core.store.work_pools import WorkPoolStore

    rt = get_runtime()
    stop = threading.Event()
    store = WorkPoolStore(rt.client, rt.store.keys)

    def beat() -> None:
        while not stop.is_set():
            try:
                for pool in pools:
                    store.beat(pool, worker, time.time())
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                log.warning("pool heartbeat not written: %s", exc)
            stop.wait(rt.settings.heartbeat_interval_seconds)

    threading.Thread(target=beat, name="tasks-core-pool-heartbeat", daemon=True).start()
    return stop
