"""Start a Celery worker that serves tasks-core work pools."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from celery import signals

from tasks_core.process_runtime import get_runtime, set_serving_queues
from tasks_core.user_modules import import_user_modules
from workers.celery_command import run_worker_command
from workers.celery_view import show_runs_to_celery
from workers.consumer import use_safe_consumer
from workers.execute import register_tasks
from workers.heartbeat import start_heartbeat, start_pool_heartbeat
from workers.nodes import claim_node
from workers.rate_gate import install_rate_limit_command
from workers.signals import connect_signals
from workers.task_signals import install as install_task_signals

__all__ = ["CeleryOptions", "run_worker", "worker_argv"]


@dataclass(frozen=True, slots=True)
class CeleryOptions:
    """Options passed through to `celery worker` as they are (Celery's meaning and units)."""

    concurrency: int | None = None
    """Child processes or threads (None: one per CPU core)."""
    max_tasks_per_child: int | None = None
    """A prefork child is replaced after this many tasks."""
    max_memory_per_child: int | None = None
    """A prefork child is replaced after its task when its resident memory exceeds this
    many KiB."""
    autoscale: tuple[int, int] | None = None
    """``(max, min)`` prefork children, grown and shrunk with the load."""
    prefetch_multiplier: int | None = None
    """Messages reserved per child (Celery's default 4; 1 for long tasks)."""


def worker_argv(queues: Sequence[str], node: str, options: CeleryOptions, *, pool: str,
                loglevel: str) -> list[str]:
    """The `celery worker` arguments of a tasks-core worker (pure)."""
    argv = ["worker", "--queues", ",".join(queues), "--pool", pool, "--loglevel", loglevel,
            "--hostname", node]
    if options.concurrency:
        argv += ["--concurrency", str(options.concurrency)]
    if options.max_tasks_per_child:
        argv += ["--max-tasks-per-child", str(options.max_tasks_per_child)]
    if options.max_memory_per_child:
        argv += ["--max-memory-per-child", str(options.max_memory_per_child)]
    if options.autoscale:
        argv += ["--autoscale", f"{options.autoscale[0]},{options.autoscale[1]}"]
    if options.prefetch_multiplier is not None:
        argv += ["--prefetch-multiplier", str(options.prefetch_multiplier)]
    return argv


def run_worker(
    pools: Sequence[str],
    *,
    imports: Sequence[str] = (),
    pool: str = "prefork",
    loglevel: str = "INFO",
    hostname: str | None = None,
    queues: Sequence[str] = (),
    options: CeleryOptions | None = None,
    extra_args: Sequence[str] = (),
    default_queue_from_conf: bool = False,
) -> int:
    """Run a Celery worker on the queues of `pools` (and the extra `queues`) until it is
    stopped.

    With `default_queue_from_conf` (no pool was named), the pool is the Celery app's
    ``task_default_queue`` once `imports` are imported (the ``default_pool`` setting unless
    an imported module set ``app.conf.task_default_queue``), as runs are routed.

    Its node name is `hostname` (Celery's forms, ``name@%h``), else the first free one of
    ``<pools>@host``, ``<pools>-2@host``, ... (see `tasks_core.nodes`).

    Returns:
        The worker's exit code: 0 after a requested shutdown, non-zero when it stopped on
        an error (Celery's "Unrecoverable error") or could not start.

    Raises:
        ConfigurationError: `hostname` is held by another live worker.
        StoreUnavailable: Redis cannot be reached.
    """
    logging.basicConfig(level=loglevel, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if "" not in sys.path:
        sys.path.insert(0, "")
    import_user_modules(imports)  # before forking: children inherit the tasks
    if default_queue_from_conf:  # no --pool: Celery's task_default_queue, as routing reads it
        pools = [str(get_runtime().app.conf.task_default_queue or pools[0])]
    options = options or CeleryOptions()
    consumed = list(dict.fromkeys([*pools, *queues]))
    set_serving_queues(frozenset(consumed))
    rt = get_runtime()
    rt.server.ping()
    app = rt.app
    register_tasks(app)
    install_rate_limit_command()
    install_task_signals()  # user receivers get the user's task as sender
    use_safe_consumer(app)
    connect_signals()
    pool_names = list(dict.fromkeys(p.split(":", 1)[0] for p in pools))
    node = claim_node(rt, pools=pool_names, queues=consumed, pool_impl=pool,
                      concurrency=options.concurrency, autoscale=options.autoscale,
                      hostname=hostname)
    if pool in ("solo", "threads"):
        start_heartbeat()
    show_runs_to_celery(app, node.name, rt.settings.task_events)
    start_pool_heartbeat(pool_names, node)
    argv = worker_argv(consumed, node.name, options, pool=pool, loglevel=loglevel)
    controllers: list[object] = []

    def remember(sender: object = None, **_: object) -> None:
        controllers.append(sender)

    signals.worker_init.connect(remember, weak=False)
    code = run_worker_command(app, [*argv, *extra_args])  # `celery worker`, no plugins
    return exit_code(code, controllers[-1] if controllers else None)


def exit_code(code: int | None, controller: object | None) -> int:
    """The worker's exit code: Celery's command's, else its WorkController's `exitcode`
    (`Celery.start` and `worker_main` drop the command's, so a worker that died exited 0;
    `run_worker_command` returns it, and the WorkController's is read when it is 0 or
    missing)."""
    if code:
        return int(code)
    if controller is None:
        return 1  # the command returned before a worker was built: it never ran
    return int(getattr(controller, "exitcode", 0) or 0)
