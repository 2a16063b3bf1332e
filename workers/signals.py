"""Every Celery signal hook of the worker, in one place."""

from __future__ import annotations

import logging
import threading
from contextvars import Token
from typing import Any

from celery import signals

from tasks_core.messages import OWN_TASKS, Delivery, current_delivery
from tasks_core.runtime import get_runtime
from workers.heartbeat import start_heartbeat

__all__ = ["connect_signals", "eviction_warning"]

log = logging.getLogger("tasks_core.worker")
_heartbeat: threading.Event | None = None
_delivery_tokens: dict[str, Token[Delivery | None]] = {}


def eviction_warning(policy: str) -> str | None:
    """A warning when Redis may evict keys (queued work and records would vanish)."""
    if policy == "noeviction":
        return None
    return (f"Redis maxmemory-policy is {policy!r}: under memory pressure it deletes keys, "
            "including queued runs and their records; set it to 'noeviction' "
            "(see configs/redis.conf)")


def _on_process_init(**_: Any) -> None:
    global _heartbeat
    _heartbeat = start_heartbeat()  # the runtime is rebuilt in this child on first use


def _on_process_shutdown(**_: Any) -> None:
    rt = get_runtime()
    rt.reporter.flush(timeout=10)
    if _heartbeat is not None:
        _heartbeat.set()


def _on_worker_ready(**_: Any) -> None:
    rt = get_runtime()
    warning = eviction_warning(rt.server.maxmemory_policy() or "")
    if warning:
        log.warning(warning)


def _on_worker_shutdown(**_: Any) -> None:
    rt = get_runtime()
    if "reporter" in rt.__dict__:
        rt.reporter.flush(timeout=10)


def _on_task_prerun(task_id: str = "", task: Any = None, args: Any = (), **_: Any) -> None:
    """Say which message this thread executes (a run without a record sets it aside)."""
    if task is None or task.name not in OWN_TASKS:
        return
    info = task.request.delivery_info or {}
    delivery = Delivery(task=task.name, queue=str(info.get("routing_key") or ""),
                        priority=info.get("priority") or 0, message_id=task_id,
                        args=tuple(args or ()))
    _delivery_tokens[task_id] = current_delivery.set(delivery)


def _on_task_postrun(task_id: str = "", **_: Any) -> None:
    token = _delivery_tokens.pop(task_id, None)
    if token is not None:
        current_delivery.reset(token)


def connect_signals() -> None:
    """Connect the hooks (idempotent: Celery ignores duplicate receivers)."""
    signals.worker_process_init.connect(_on_process_init, weak=False)
    signals.worker_process_shutdown.connect(_on_process_shutdown, weak=False)
    signals.worker_ready.connect(_on_worker_ready, weak=False)
    signals.worker_shutting_down.connect(_on_worker_shutdown, weak=False)
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False)
    signals.task_prerun.connect(_on_task_prerun, weak=False)
    signals.task_postrun.connect(_on_task_postrun, weak=False)
