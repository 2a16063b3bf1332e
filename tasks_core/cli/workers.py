"""`tasks-core worker ...`: the `worker` group (running a worker is its own callback, in
`tasks_core.cli.processes`), `worker ls`, and the checks of the worker's options.

`worker ls` reads the workers' heartbeats (`tasks_core.store.nodes`): a worker is listed
while it holds its node name, and as silent for a while after its heartbeat stopped. Its
table is drawn by `tasks_core.cli.worker_list`, imported when `ls` runs: a worker imports
this module at start-up, and its prefork children would carry rich's tables for nothing
(issue 16, footprint).
"""

from __future__ import annotations

from collections.abc import Sequence

import typer

from tasks_core.errors import ValidationError
from tasks_core.pool_names import check_queue_name

__all__ = ["PREFORK_ONLY", "app", "check_worker_options", "ls", "parse_autoscale",
           "split_queues"]

app = typer.Typer(
    help="Run a Celery worker on work pools (`tasks-core worker --pool NAME`), or list "
         "workers (`tasks-core worker ls`).",
    invoke_without_command=True, no_args_is_help=False)

PREFORK_ONLY = ("--autoscale", "--max-tasks-per-child", "--max-memory-per-child")
"""Options that act on prefork children only (Celery ignores them for threads and solo)."""


# -- option checks (pure) -----------------------------------------------------------------


def parse_autoscale(value: str) -> tuple[int, int]:
    """``MAX,MIN`` (or ``MAX``, MIN 0) child processes, as Celery's ``--autoscale``.

    Raises:
        ValidationError: not one or two integers, MAX < 1, MIN < 0 or MIN > MAX.
    """
    parts = [part.strip() for part in value.split(",")]
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (1, 2) or len(parts) != len(numbers):
        raise ValidationError(f"invalid --autoscale {value!r}: give MAX,MIN (e.g. 10,2) or MAX")
    top, bottom = numbers[0], (numbers[1] if len(numbers) == 2 else 0)
    if top < 1 or bottom < 0 or bottom > top:
        raise ValidationError(f"invalid --autoscale {value!r}: MAX must be >= 1 and "
                              "0 <= MIN <= MAX (the order is MAX,MIN, as Celery's)")
    return top, bottom


def split_queues(values: Sequence[str]) -> list[str]:
    """Queue names from repeated and comma-separated options (``-Q a,b -Q c``), each
    checked as a pool name or ``pool:work-queue``; ValidationError names a bad one."""
    names = [name.strip() for value in values for name in value.split(",")]
    return list(dict.fromkeys(check_queue_name(name) for name in names if name))


def check_worker_options(pools: Sequence[str], *, pool_impl: str,
                         prefork_only: Sequence[str]) -> list[str]:
    """The pools of `worker --pool`, checked as `work-pool create` checks names; options in
    `prefork_only` (those given) are refused with the threads or solo pool.

    Raises:
        ValidationError: a bad pool name (what is wrong named), a bad pool implementation,
            or a prefork-only option with another pool.
    """
    if pool_impl not in ("prefork", "threads", "solo"):
        raise ValidationError(f"invalid --pool-impl {pool_impl!r}: prefork, threads or solo")
    if prefork_only and pool_impl != "prefork":
        raise ValidationError(f"{', '.join(prefork_only)} act on prefork child processes: "
                              f"drop them or use --pool-impl prefork (not {pool_impl})")
    return [check_queue_name(pool, what="work pool") for pool in pools]


# -- listing ------------------------------------------------------------------------------


@app.command("ls")
def ls(as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one object per "
                                    "worker, every field (keys in the README)")) -> None:
    """List workers from their heartbeats: node, pools, concurrency, active runs, last seen."""
    from tasks_core.cli.worker_list import list_workers

    list_workers(as_json=as_json)
