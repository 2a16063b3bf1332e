"""Every Celery signal hook of the worker, in one place."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import signals

from tasks_core.celery_app import EXECUTE_FLOW, EXECUTE_RUN
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Transition
from workers.heartbeat import start_heartbeat
from workers.nodes import current_node, describe_controller, release_node
from workers.task_signals import revoked_through_celery

__all__ = ["connect_signals", "eviction_warning"]

log = logging.getLogger("tasks_core.worker")
_heartbeat: threading.Event | None = None


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
    if "emitter" in rt.__dict__:  # events emitted by tasks (a child exits without atexit)
        rt.emitter.flush(timeout=10)
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
    if "emitter" in rt.__dict__:
        rt.emitter.flush(timeout=10)


def _on_task_revoked(request: Any = None, terminated: bool = False, expired: bool = False,
                     **_: Any) -> None:
    """Celery revoked a run's message (``celery control revoke``, `TaskFuture.cancel` with
    force, an expired message): the ledger says Cancelled too, so no sweep re-sends it.
    Runs in the worker's main process; a run already ended keeps its state."""
    task = getattr(request, "task", None) or getattr(request, "name", None)
    run_id = getattr(request, "id", None)
    if run_id is None or task not in (EXECUTE_RUN, EXECUTE_FLOW):
        return
    how = "terminated" if terminated else "expired" if expired else "revoked"
    change = Transition(run_id, StateName.CANCELLED, outcome=True,
                        kind="flow" if task == EXECUTE_FLOW else "task",
                        message=f"{how} through Celery", return_fields=("name",))
    try:
        [outcome] = get_runtime().reporter.apply_now([change])
    except Exception:
        log.exception("run %s: Celery %s it; not recorded as Cancelled", run_id, how)
        return
    if outcome.applied and not expired:  # ended here, not by its own attempt (which sent
        # the signal for its task itself): sent again for the user's task, as Celery does
        revoked_through_celery((outcome.record or {}).get("name", ""), run_id,
                               terminated=terminated, signum=_.get("signum"))


def _on_after_setup(instance: Any = None, **_: Any) -> None:
    node = current_node()
    if node is not None and instance is not None:  # its size, for `tasks-core worker ls`
        node.update(**describe_controller(instance))


def _on_worker_stopped(**_: Any) -> None:
    # at the very end (not when shutdown starts: the name stays held while runs finish)
    release_node(get_runtime())


def connect_signals() -> None:
    """Connect the hooks (idempotent: Celery ignores duplicate receivers)."""
    signals.worker_process_init.connect(_on_process_init, weak=False)
    signals.worker_process_shutdown.connect(_on_process_shutdown, weak=False)
    signals.worker_ready.connect(_on_worker_ready, weak=False)
    signals.worker_shutting_down.connect(_on_worker_shutdown, weak=False)
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False)
    signals.task_revoked.connect(_on_task_revoked, weak=False)
    signals.worker_shutdown.connect(_on_worker_stopped, weak=False)
    signals.celeryd_after_setup.connect(_on_after_setup, weak=False)
