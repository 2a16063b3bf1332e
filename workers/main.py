"""Start a Celery worker that serves tasks-core work pools."""

from __future__ import annotations

import importlib
import logging
import socket
import sys
from collections.abc import Sequence

from celery import signals

from tasks_core.runtime import get_runtime, set_serving_queues
from workers.consumer import use_safe_consumer
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
) -> int:
    """Run a Celery worker on the queues of `pools` until it is stopped.

    Returns:
        The worker's exit code: 0 after a requested shutdown, non-zero when it stopped on
        an error (Celery's "Unrecoverable error") or could not start.
    """
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
    use_safe_consumer(app)
    connect_signals()
    if pool in ("solo", "threads"):
        start_heartbeat()
    node = hostname or f"{'+'.join(pools)}@{socket.gethostname()}"
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
    controllers: list[object] = []

    def remember(sender: object = None, **_: object) -> None:
        controllers.append(sender)

    signals.worker_init.connect(remember, weak=False)
    code = app.start([*argv, *extra_args])  # `celery worker`; its code is lost on the way
    return exit_code(code, controllers[-1] if controllers else None)


def exit_code(code: int | None, controller: object | None) -> int:
    """The worker's exit code: Celery's command's, else its WorkController's `exitcode`
    (Celery's `worker_main` drops it, so a worker that died exited 0)."""
    if code:
        return int(code)
    if controller is None:
        return 1  # the command returned before a worker was built: it never ran
    return int(getattr(controller, "exitcode", 0) or 0)
