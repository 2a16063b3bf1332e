"""Start a Celery worker that serves tasks-core work pools."""

from __future__ import annotations

import importlib
import logging
import socket
import sys
from collections.abc import Sequence

from tasks_core.runtime import get_runtime, set_serving_queues
from workers.celery_view import show_runs_to_celery
from workers.execute import register_tasks
from workers.heartbeat import start_heartbeat, start_pool_heartbeat
from workers.signals import connect_signals

__all__ = ["run_worker"]


def run_worker(
    pools: Sequence[str],
    *,
    concurrency: int | None = None,
    imports: Sequence[str] = (),
    pool: str = "prefork",
    loglevel: str = "INFO",
    hostname: str | None = None,
    extra_args: Sequence[str] = (),
) -> None:
    """Run a Celery worker on the queues of `pools` until it is stopped."""
    logging.basicConfig(level=loglevel, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if "" not in sys.path:
        sys.path.insert(0, "")
    for module in imports:
        importlib.import_module(module)  # before forking: children inherit the tasks
    set_serving_queues(frozenset(pools))
    rt = get_runtime()
    rt.server.ping()
    app = rt.app
    register_tasks(app)
    connect_signals()
    if pool in ("solo", "threads"):
        start_heartbeat()
    node = hostname or f"{'+'.join(pools)}@{socket.gethostname()}"
    show_runs_to_celery(app, node, rt.settings.task_events)
    start_pool_heartbeat([p.split(":", 1)[0] for p in pools], node)
    argv = [
        "worker",
        "--queues", ",".join(pools),
        "--pool", pool,
        "--loglevel", loglevel,
        "--hostname", node,
    ]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    app.worker_main([*argv, *extra_args])
