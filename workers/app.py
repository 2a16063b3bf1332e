"""The worker's Celery app, for Celery's own worker command:
``celery -A workers.app worker -Q POOL[,POOL...] [-n NAME@%h] [Celery's options]``.

`app` is this process's tasks-core app with the worker's tasks registered and its
signal hooks connected, so the worker Celery starts is a tasks-core worker: its runs are
claimed and reported as under `tasks-core worker`. When Celery has set the worker up,
the queues it consumes (``-Q``; the default pool without it) become its work pools:
they get its pool heartbeats, and its node name (``-n``; Celery's default ``celery@host``)
is leased as `tasks-core worker` leases it (`tasks_core.nodes`): a name another live
worker holds is refused, so give each worker on a host its own ``-n``.

`tasks-core worker` remains the usual way (numbered node names, ``--import``, checked
options); this module is for deployments that start workers with ``celery``.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, signals

from tasks_core.errors import TasksCoreError
from tasks_core.process_runtime import get_runtime, set_serving_queues
from workers.celery_view import show_runs_to_celery
from workers.consumer import use_safe_consumer
from workers.execute import register_tasks
from workers.heartbeat import start_heartbeat, start_pool_heartbeat
from workers.nodes import claim_node, current_node, describe_controller
from workers.signals import connect_signals

__all__ = ["app"]

log = logging.getLogger("tasks_core.worker")


def _queues(worker: Any) -> list[str]:
    return sorted(worker.app.amqp.queues.consume_from or worker.app.amqp.queues)


def _claim_name(sender: str = "", instance: Any = None, **_: Any) -> None:
    """celeryd_init: lease the node name before anything starts; refuse a taken one."""
    rt = get_runtime()
    try:
        rt.server.ping()
        claim_node(rt, pools=[], queues=[], pool_impl="prefork", hostname=sender)
    except TasksCoreError as exc:
        raise SystemExit(f"tasks-core worker not started: {exc}") from None


def _serve(sender: str = "", instance: Any = None, **_: Any) -> None:
    """celeryd_after_setup (before the pool forks): queues, pools and heartbeats."""
    node = current_node()
    if node is None or instance is None:
        return
    queues = _queues(instance)
    pools = list(dict.fromkeys(queue.split(":", 1)[0] for queue in queues))
    set_serving_queues(frozenset(queues))
    node.update(pools=pools, queues=queues, **describe_controller(instance))
    show_runs_to_celery(instance.app, node.name, get_runtime().settings.task_events)
    if node.info.pool_impl in ("solo", "threads"):
        start_heartbeat()  # prefork children start theirs on process init
    start_pool_heartbeat(pools, node)
    log.info("tasks-core worker %s serves %s", node.name, ", ".join(queues))


def _build() -> Celery:
    celery_app = get_runtime().app
    register_tasks(celery_app)
    use_safe_consumer(celery_app)
    connect_signals()
    signals.celeryd_init.connect(_claim_name, weak=False)
    signals.celeryd_after_setup.connect(_serve, weak=False)
    return celery_app


app = _build()
