"""This worker's Celery node name: claimed before Celery starts, renewed by the worker's
heartbeat with what `tasks-core worker ls` shows, given back when the worker stops.

How names are picked and why they are leased: `tasks_core.nodes`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from celery.worker import state as worker_state

from tasks_core.errors import ConfigurationError
from tasks_core.nodes import NodeInfo, candidate_names, is_stale, lease_token, node_name
from tasks_core.process_runtime import Runtime

__all__ = ["HeldNode", "claim_node", "current_node", "describe_controller", "release_node"]

log = logging.getLogger("tasks_core.worker")
_current: HeldNode | None = None


class HeldNode:
    """A node name this process holds, and the description its heartbeat writes."""

    def __init__(self, info: NodeInfo, token: str) -> None:
        self.info = info
        self.token = token
        self._lock = threading.Lock()
        self._released = False
        self._lost = False

    @property
    def name(self) -> str:
        """The Celery node name, ``name@host``."""
        return self.info.node

    def update(self, **fields: Any) -> None:
        """Change fields of the description (written by the next heartbeat)."""
        with self._lock:
            self.info = self.info.model_copy(update=fields)

    def renew(self, rt: Runtime, now: float) -> bool:
        """Renew the lease with a fresh description; False when another worker took the
        name (this one's heartbeat stopped for longer than the timeout)."""
        with self._lock:
            if self._released:
                return True
            self.info = self.info.model_copy(update={
                "active": len(worker_state.active_requests),
                "last_seen": datetime.fromtimestamp(now, UTC)})
            held = rt.nodes.hold(self.info, self.token, _ttl_ms(rt), now) == self.token
        if not held and not self._lost:
            log.error("node name %s was taken by another worker while this one's heartbeat "
                      "was not written; Celery and Flower now see two workers by one name",
                      self.name)
        self._lost = not held
        return held

    def release(self, rt: Runtime) -> None:
        """Give the name back; the heartbeat renews it no more."""
        with self._lock:
            if self._released:
                return
            self._released = True
            rt.nodes.release(self.name, self.token)


def _ttl_ms(rt: Runtime) -> int:
    return int(rt.settings.heartbeat_timeout_seconds * 1000)


def claim_node(rt: Runtime, *, pools: Sequence[str], queues: Sequence[str],
               pool_impl: str, concurrency: int | None = None,
               autoscale: tuple[int, int] | None = None,
               hostname: str | None = None) -> HeldNode:
    """Claim this worker's node name: `hostname` (Celery's ``--hostname`` forms), else
    the first free one of ``<pools>@host``, ``<pools>-2@host``, ...

    Raises:
        ConfigurationError: `hostname` is held by another live worker (its holder named),
            or every numbered name is.
    """
    global _current
    names: Iterable[str] = [node_name(hostname)] if hostname else candidate_names(pools)
    token = lease_token()
    host = socket.gethostname()
    for name in names:
        info = NodeInfo(node=name, host=host, pid=os.getpid(), pools=list(pools),
                        queues=list(queues), concurrency=concurrency, autoscale=autoscale,
                        pool_impl=pool_impl)
        holder = _take(rt, info, token)
        if holder == token:
            _current = HeldNode(info, token)
            return _current
        if hostname:
            raise ConfigurationError(
                f"node name {name!r} is in use by a live worker (lease {holder!r}): give "
                "another one (--hostname / -n NAME@%h), or leave it out to get a free name")
    raise ConfigurationError(f"every node name for {'+'.join(pools)!r} on {host} is in use")


def _take(rt: Runtime, info: NodeInfo, token: str) -> str:
    now = time.time()
    holder = rt.nodes.hold(info, token, _ttl_ms(rt), now)
    if holder != token and is_stale(holder):
        log.info("node name %s: taking over the lease of %s (that process is gone)",
                 info.node, holder)
        holder = rt.nodes.hold(info, token, _ttl_ms(rt), now, take_over=holder)
    return holder


def current_node() -> HeldNode | None:
    """The node name this process holds, if it claimed one."""
    return _current


def describe_controller(controller: Any) -> dict[str, Any]:
    """What a Celery `WorkController` says of its size: concurrency, autoscale, pool."""
    fields: dict[str, Any] = {"concurrency": getattr(controller, "concurrency", None)}
    autoscale = getattr(controller, "autoscale", None)
    if autoscale:
        fields["autoscale"] = (int(autoscale[0]), int(autoscale[1]))
        fields["concurrency"] = int(autoscale[0])
    pool_cls = getattr(controller, "pool_cls", None)
    if pool_cls is not None:
        module = getattr(pool_cls, "__module__", str(pool_cls))
        fields["pool_impl"] = {"celery.concurrency.prefork": "prefork",
                               "celery.concurrency.thread": "threads",
                               "celery.concurrency.solo": "solo"}.get(module, str(module))
    return fields


def release_node(rt: Runtime) -> None:
    """Give this process's node name back (at worker shutdown); nothing when none."""
    if _current is not None:
        _current.release(rt)
