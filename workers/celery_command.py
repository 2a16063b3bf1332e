"""Run Celery's ``celery worker`` command for an app, without Celery's ``celery`` group.

`Celery.start` runs the ``celery`` click group (``celery/bin/celery.py``), and importing that
module imports every Celery sub-command and loads every ``celery.commands`` entry point:
Flower's command among them (tornado, prometheus_client), in every tasks-core worker, since
Flower is a dependency, and again in each prefork child, which is forked from the main
process. A worker needs none of those commands; without them an idle prefork worker holds
about 12 MiB less per process (issue 16, footprint; README, Benchmarks).

`run_worker_command` runs the same ``worker`` command (``celery/bin/worker.py``: its options,
its checks, its WorkController) under a group of its own that does what the ``celery``
group's callback does for it: the CLI context holding the app, and the options the app adds
to ``worker`` (``app.user_options["worker"]``) and to every command
(``app.user_options["preload"]``, taken off the keyword arguments before the command runs,
as Celery does). The ``celery`` group's own options (``--broker``, ``--workdir``, ...) are not
taken: tasks-core's worker passes only ``worker`` arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["run_worker_command"]


def run_worker_command(app: Any, argv: Sequence[str]) -> int | None:
    """Run ``celery worker`` for `app` with `argv` (``["worker", ...]``) until the worker
    stops; the exit code the command ended with (a click ``Exit``), else None. (`Celery.start`
    drops it and returns None; `workers.main.exit_code` reads the worker's own then.)

    Raises:
        click.ClickException: `argv` is not a valid ``celery worker`` command line (raised,
            not printed, as from `Celery.start`).
    """
    import click
    from celery.bin.base import CLIContext, consume_preload_options
    from celery.bin.worker import worker

    @click.group()
    @click.pass_context
    def group(ctx: click.Context) -> None:
        ctx.obj = CLIContext(app=app, no_color=None, workdir=None, quiet=False)
        worker.params.extend(app.user_options.get("worker", []))
        preload = app.user_options.get("preload", ())
        if preload:
            worker.params.extend(preload)
            worker.callback = consume_preload_options(worker.callback)

    group.add_command(worker)
    try:  # click returns an Exit's code when not standalone; older clicks raise it
        code = group.main(args=list(argv), prog_name="celery", standalone_mode=False)
    except click.exceptions.Exit as stop:
        code = stop.exit_code
    return code if isinstance(code, int) else None
