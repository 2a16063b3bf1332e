"""The app Celery's own command line attaches to: ``celery -A tasks_core ...``.

Celery's `find_app` reads the attribute ``app`` of the module named by ``-A``;
`tasks_core.app` is this process's tasks-core Celery app (`Runtime.app`: built from
settings, the broker and queues every tasks-core process uses), built only when read.
So ``celery -A tasks_core inspect active|reserved|stats|ping``, ``control ...``,
``status``, ``purge`` and ``events`` talk to a running tasks-core cluster, under the
same ``TASKS_CORE_*`` environment as the cluster.

That app has none of the worker's tasks: a ``celery -A tasks_core worker`` would take
runs off the queues and reject them as unregistered. It is refused, pointing at
``celery -A workers.app worker`` (the worker's app, see `workers.app`) and at
``tasks-core worker``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, signals

from tasks_core.celery_app import EXECUTE_RUN
from tasks_core.process_runtime import get_runtime

__all__ = ["NOT_A_WORKER", "cli_app"]

NOT_A_WORKER = (
    "`celery -A tasks_core` is for Celery's monitoring and control commands (inspect, "
    "control, status, purge, events); it has no tasks, so a worker on it would reject "
    "every run it takes. Run `tasks-core worker --pool NAME`, or `celery -A workers.app "
    "worker -Q NAME`.")


def _refuse_worker_without_tasks(instance: Any = None, **_: Any) -> None:
    if instance is not None and EXECUTE_RUN not in instance.app.tasks:
        raise SystemExit(NOT_A_WORKER)  # SystemExit: Celery's signal dispatch passes it on


def cli_app() -> Celery:
    """This process's tasks-core Celery app, with a worker on it refused."""
    signals.celeryd_init.connect(_refuse_worker_without_tasks, weak=False)
    return get_runtime().app
