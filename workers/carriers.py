"""The carrier tasks on any Celery worker of the tasks-core app.

`tasks_core.celery_app.create_app` names this module in the app's ``imports`` (Celery's
setting: the modules a worker imports when it starts, before it sends ``worker_init``).
A worker started by `tasks-core worker` or ``celery -A workers.app`` has registered the
carrier tasks already and is left alone. Any other Celery worker of the app, above all the
in-thread one of ``celery.contrib.testing.worker.start_worker(app)`` (and so Celery's
``celery_worker`` fixture and `tasks_core.testing`'s ``tasks_core_worker``), gets here what
those do: the carrier tasks (`workers.execute.register_tasks`), the guarded consumer, the
signal hooks and, for the in-process pools (solo, threads), this process's heartbeat, so
its runs are claimed, reported and never taken for crashed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import signals

from tasks_core.celery_app import EXECUTE_RUN
from workers.consumer import use_safe_consumer
from workers.execute import register_tasks
from workers.heartbeat import start_heartbeat
from workers.signals import connect_signals

__all__ = ["carry"]

log = logging.getLogger("tasks_core.worker")

_lock = threading.Lock()
_heartbeat: threading.Event | None = None


def carry(worker: Any) -> bool:
    """Make the Celery `worker` (a WorkController) a tasks-core worker unless it is one
    already; whether anything was added."""
    global _heartbeat
    app = worker.app
    with _lock:
        if EXECUTE_RUN in app.tasks:
            return False
        register_tasks(app)
        use_safe_consumer(app)
        worker.consumer_cls = app.conf.worker_consumer  # read from the conf before this
        connect_signals()
        pool = str(getattr(worker, "pool_cls", "") or "")
        if _heartbeat is None and ("solo" in pool or "thread" in pool):
            _heartbeat = start_heartbeat()
    log.info("tasks-core carrier tasks registered on the Celery worker %s", worker.hostname)
    return True


def _on_worker_init(sender: Any = None, **_: Any) -> None:
    if sender is not None and getattr(sender, "app", None) is not None:
        carry(sender)


signals.worker_init.connect(_on_worker_init, weak=False)
