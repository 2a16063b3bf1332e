"""`tasks-core work-pool ...`: create, list, inspect, pause, resume and limit work pools
(``pause NAME --queue Q`` / ``resume NAME --queue Q``: one work queue of a pool).

Pools are read through `WorkPoolStore` (an unknown name fails with `WorkPoolNotFound`,
whose message says how to create it) and changed through `tasks_core.work_pools`, so the
CLI pauses, resumes and limits exactly as the Python API does (events, parked runs sent
again). Every error is one red line on stderr and exit code 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic
import typer
from rich.table import Table
from rich.text import Text

from tasks_core.cli.jsonout import print_json, print_json_lines
from tasks_core.cli.output import EMPTY, console, expected_errors, fail, field_grid, format_time
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.deployment_models import WorkPool
from tasks_core.errors import ValidationError, WorkPoolNotFound
from tasks_core.pool_names import check_pool_name

if TYPE_CHECKING:
    from tasks_core.store.work_pools import WorkPoolStore

__all__ = ["PoolView", "app", "parse_limit", "pool_json", "pools_table"]

app = typer.Typer(help="Create, list, inspect, pause, resume and limit work pools (pause and "
                       "resume one work queue of a pool with --queue).",
                  no_args_is_help=True)

_NAME_HELP = "the work pool's name (see `tasks-core work-pool ls`)"
_LIMIT_HELP = "most flow runs of the pool running at once: an integer >= 1, or `none`"
SHOW_IDS = 1000
"""Most running / parked run ids `inspect` lists."""


def _store() -> WorkPoolStore:
    # imported here: tasks_core.work_pools pulls in Celery, which `--help` never needs
    from tasks_core.work_pools import pool_store

    return pool_store()


@contextmanager
def _pool_errors() -> Iterator[None]:
    """`expected_errors`, with a pool's invalid fields (pydantic) said as user input."""
    with expected_errors():
        try:
            yield
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'value'}: "
                f"{error['msg'].removeprefix('Value error, ')}"
                for error in exc.errors())
            raise ValidationError(f"invalid work pool: {problems}") from None


# -- pure helpers -------------------------------------------------------------------------


def parse_limit(value: str) -> int | None:
    """A concurrency limit from user input: an integer >= 1, or `none` (no limit).

    Raises:
        ValidationError: anything else; the message shows both forms.
    """
    text = value.strip()
    if text.lower() == "none":
        return None
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ValidationError(
            f"invalid concurrency limit {value!r}: give an integer >= 1, or `none` for no limit")
    return limit


@dataclass(frozen=True, slots=True)
class PoolView:
    """A pool record with its running and parked flow runs."""

    pool: WorkPool
    running_count: int
    parked_count: int
    running: tuple[str, ...] = ()
    parked: tuple[str, ...] = ()


def _limit_text(limit: int | None) -> Text:
    return Text(str(limit)) if limit is not None else Text("none", style="dim")


def _paused_text(paused: bool) -> Text:
    return Text("paused", style="yellow") if paused else Text("no", style="dim")


def _pool_paused_text(pool: WorkPool) -> Text:
    """``paused`` (the whole pool), ``queues high, low`` (only those), or ``no``."""
    if pool.paused or not pool.paused_queues:
        return _paused_text(pool.paused)
    return Text("queues " + ", ".join(pool.paused_queues), style="yellow")


POOL_COLUMNS = (
    Column("Name", style="bold", shrink=True), Column("Paused", shrink=True),
    Column("Limit", drop=1, justify="right"), Column("Running", drop=1, justify="right"),
    Column("Parked", drop=1, justify="right"), Column("Description", drop=2, flexible=True))
"""Columns of `pools_table`: name and paused at any width, the others as room allows."""


def pools_table(views: Sequence[PoolView], width: int | None = None) -> Table:
    """Pools as a table that fits `width` cells (default: the console's): name, paused (or
    its paused work queues), then as room allows concurrency limit, running, parked,
    description."""
    # user-supplied values go in as Text, so brackets in them are never rich markup
    rows: list[list[Cell]] = [[Text(v.pool.name), _pool_paused_text(v.pool),
             _limit_text(v.pool.concurrency_limit), str(v.running_count),
             str(v.parked_count), Text(v.pool.description or EMPTY)] for v in views]
    return fit_table(POOL_COLUMNS, rows, width or console.width, title="Work pools")


def pool_json(view: PoolView) -> dict[str, Any]:
    """Every field of a pool, its running and parked flow run ids and their counts."""
    return {**view.pool.model_dump(mode="json"),
            "running_count": view.running_count, "running": list(view.running),
            "parked_count": view.parked_count, "parked": list(view.parked)}


# -- reading ------------------------------------------------------------------------------


def _view(store: WorkPoolStore, name: str) -> PoolView:
    pool = store.get(name)
    (running_count, parked_count), = store.counts([name])
    return PoolView(pool, running_count, parked_count,
                    running=tuple(store.running(name)[:SHOW_IDS]),
                    parked=tuple(store.parked(name, limit=SHOW_IDS)))


def _exists(name: str) -> bool:
    try:
        _store().get(name)
    except WorkPoolNotFound:
        return False
    return True


# -- commands -----------------------------------------------------------------------------


@app.command("create")
def create(
    name: str = typer.Argument(
        ..., help="the new pool's name (also its Celery queue): ASCII letters, digits, '-', "
                  "'_', '.', starting with a letter or digit"),
    concurrency: str | None = typer.Option(None, "--concurrency", "-c", metavar="N",
                                           help=_LIMIT_HELP + " (default: no limit)"),
    description: str | None = typer.Option(None, "--description", "-d",
                                           help="what the pool is for"),
) -> None:
    """Create a work pool (`tasks-core worker --pool NAME` serves it)."""
    from tasks_core.work_pools import create_pool

    with _pool_errors():
        limit = parse_limit(concurrency) if concurrency is not None else None
        WorkPool(name=name, concurrency_limit=limit, description=description)  # check first
        if _exists(name):
            fail(f"work pool {name!r} already exists (change it with `tasks-core work-pool "
                 f"set-concurrency`, `pause` or `resume`)")
        pool = create_pool(name, concurrency_limit=limit, description=description)
    limit_word = str(pool.concurrency_limit) if pool.concurrency_limit else "none"
    console.print(Text.assemble("Created work pool ", (pool.name, "bold cyan"),
                                f" (concurrency limit: {limit_word})."))


@app.command("ls")
def ls(
    as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one object per pool "
                                 "(keys in the README)"),
) -> None:
    """List every work pool with its running and parked flow run counts."""
    with _pool_errors():
        store = _store()
        pools = store.list_pools()
        counts = store.counts([p.name for p in pools])
    if as_json:
        print_json_lines(pool_json(PoolView(p, r, k))
                         for p, (r, k) in zip(pools, counts, strict=True))
        return
    if not pools:
        console.print("No work pools. Create one with `tasks-core work-pool create NAME`.",
                      highlight=False)
        return
    console.print(pools_table([PoolView(p, r, k) for p, (r, k) in zip(pools, counts,
                                                                        strict=True)]))


def _ids_text(ids: Sequence[str], count: int) -> Text:
    if not ids:
        return Text(EMPTY)
    text = Text("\n".join(ids))
    if count > len(ids):
        text.append(f"\n… and {count - len(ids)} more", style="dim")
    return text


@app.command("inspect")
def inspect_pool(
    name: str = typer.Argument(..., help=_NAME_HELP),
    as_json: bool = typer.Option(False, "--json", help="print every field as one JSON object"),
) -> None:
    """Show one work pool: its fields, running and parked flow run ids."""
    with _pool_errors():
        view = _view(_store(), name)
    if as_json:
        print_json(pool_json(view))
        return
    pool = view.pool
    console.print(Text.assemble(("Work pool ", "bold"), (pool.name, "bold cyan")))
    console.print(field_grid([
        ("Name", Text(pool.name)),
        ("Description", Text(pool.description or EMPTY)),
        ("Paused", _paused_text(pool.paused)),
        ("Paused queues", Text(", ".join(pool.paused_queues) or EMPTY)),
        ("Concurrency limit", _limit_text(pool.concurrency_limit)),
        ("Created", format_time(pool.created)),
        (f"Running ({view.running_count})", _ids_text(view.running, view.running_count)),
        (f"Parked ({view.parked_count})", _ids_text(view.parked, view.parked_count)),
    ]))


_QUEUE_HELP = ("only this work queue of the pool (`high` for runs on `NAME:high`, e.g. a "
               "deployment's work_queue_name); the pool's other queues go on")


@app.command("pause")
def pause(
    name: str = typer.Argument(..., help=_NAME_HELP),
    queue: str | None = typer.Option(None, "--queue", "-q", metavar="QUEUE", help=_QUEUE_HELP),
) -> None:
    """Pause a pool: its workers start no new flow runs (they wait, parked; none is lost).
    With --queue, pause only that work queue of the pool."""
    from tasks_core.work_pools import pause_pool, pause_queue

    with _pool_errors():
        pool = _store().get(name)
        if queue is not None:
            check_pool_name(queue, what="work queue name")
            if queue in pool.paused_queues:
                console.print(Text(f"Work queue {queue} of pool {name} is already paused."))
                return
            pause_queue(name, queue)
            console.print(Text(f"Work queue {queue} of pool {name} paused; its new flow runs "
                               f"wait until `tasks-core work-pool resume {name} --queue "
                               f"{queue}`."))
            return
        if pool.paused:
            console.print(Text(f"Work pool {name} is already paused."))
            return
        pause_pool(name)
    console.print(Text(f"Work pool {name} paused; new flow runs wait until "
                       f"`tasks-core work-pool resume {name}`."))


@app.command("resume")
def resume(
    name: str = typer.Argument(..., help=_NAME_HELP),
    queue: str | None = typer.Option(None, "--queue", "-q", metavar="QUEUE",
                                     help="only this paused work queue of the pool"),
) -> None:
    """Resume a paused pool and send its parked flow runs again. With --queue, resume
    only that work queue of the pool (the pool's parked runs are sent again; runs still
    held wait on)."""
    from tasks_core.work_pools import resume_pool, resume_queue

    with _pool_errors():
        pool = _store().get(name)
        if queue is not None:
            check_pool_name(queue, what="work queue name")
            if queue not in pool.paused_queues:
                console.print(Text(f"Work queue {queue} of pool {name} is not paused."))
                return
            sent = resume_queue(name, queue)
            what = f"Work queue {queue} of pool {name}"
        else:
            if not pool.paused:
                console.print(Text(f"Work pool {name} is not paused."))
                return
            sent = resume_pool(name)
            what = f"Work pool {name}"
    console.print(Text(f"{what} resumed; {len(sent)} parked flow "
                       f"run{'' if len(sent) == 1 else 's'} sent again."))


@app.command("set-concurrency")
def set_concurrency_command(
    name: str = typer.Argument(..., help=_NAME_HELP),
    limit: str = typer.Argument(..., metavar="LIMIT", help=_LIMIT_HELP),
) -> None:
    """Cap a pool's running flow runs (`none` removes the cap); waiting runs may start."""
    from tasks_core.work_pools import set_concurrency

    with _pool_errors():
        value = parse_limit(limit)
        pool = set_concurrency(name, value)
    shown = str(pool.concurrency_limit) if pool.concurrency_limit is not None else "none"
    console.print(Text(f"Work pool {name} concurrency limit: {shown}."))
