"""`tasks-core concurrency-limit ...`: create, ls, inspect, reset, delete concurrency limits
(global limits, rate limits and task tag limits; `tasks_core.concurrency`).

``create NAME LIMIT [--slot-decay-per-second X]`` makes a global limit (a rate limit with
a decay); ``create --tag TAG LIMIT`` makes the tag limit ``tag:TAG`` that task runs
carrying TAG wait for. Wherever a NAME is taken, ``--tag TAG`` names a tag limit instead.
Every error is one red line on stderr and exit code 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.table import Table
from rich.text import Text

from tasks_core.cli.jsonout import print_json, print_json_lines
from tasks_core.cli.output import EMPTY, console, expected_errors, fail, field_grid, format_time
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.concurrency.limits import ConcurrencyLimit

__all__ = ["LIMIT_COLUMNS", "app", "limits_table"]

app = typer.Typer(help="Create, list, inspect, reset and delete concurrency limits (global "
                       "limits, rate limits, task tag limits), held in Redis across every "
                       "worker and process.", no_args_is_help=True)

_TAG_HELP = "a task tag limit: the limit named tag:TAG, instead of NAME"
_JSON_HELP = "print JSON (name, limit, slot_decay_per_second, active_slots, holders, ...)"

LIMIT_COLUMNS = (
    Column("Name", style="bold", shrink=True), Column("Slots used", justify="right"),
    Column("Limit", justify="right"), Column("Decay/s", drop=1, justify="right"),
    Column("Holders", drop=2, justify="right"), Column("Denied", drop=3, justify="right"),
    Column("Created", drop=4))
"""Columns of `limits_table`: name, slots used and limit at any width, then what fits."""


def _json(limit: ConcurrencyLimit) -> dict[str, object]:
    return {**limit.model_dump(mode="json"), "tag": limit.tag}


def _decay(value: float) -> str:
    return f"{value:g}" if value else EMPTY


def limits_table(limits: Sequence[ConcurrencyLimit], width: int | None = None) -> Table:
    """Limits as a table that fits `width` cells (default: the console's)."""
    rows: list[list[Cell]] = [
        [Text(c.name), str(c.slots_in_use), str(c.limit), _decay(c.slot_decay_per_second),
         str(c.holders), str(c.denied_slots), format_time(c.created)] for c in limits]
    return fit_table(LIMIT_COLUMNS, rows, width or console.width, title="Concurrency limits")


def _name(name: str | None, tag: str | None) -> str:
    from tasks_core.concurrency.limits import tag_limit_name

    if (name is None) == (tag is None):
        fail("give a limit's NAME or --tag TAG (one of them)")
    with expected_errors():
        return tag_limit_name(tag) if tag is not None else str(name)


@app.command("create")
def create(
    words: list[str] = typer.Argument(..., metavar="[NAME] LIMIT",
                                      help="NAME LIMIT; with --tag, only LIMIT"),
    tag: str | None = typer.Option(None, "--tag", help="make the task tag limit tag:TAG: "
                                   "task runs carrying TAG wait for one of its slots"),
    decay: float = typer.Option(0.0, "--slot-decay-per-second", help="slots given back per "
                                "second (a rate limit, for rate_limit()); 0: none"),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Create a concurrency limit: NAME LIMIT, or --tag TAG LIMIT."""
    from tasks_core.concurrency.limits import create_limit, tag_limit_name

    expected = 1 if tag is not None else 2
    if len(words) != expected:
        fail("give --tag TAG LIMIT (e.g. --tag db 5)" if tag is not None
             else "give NAME LIMIT (e.g. db 5), or --tag TAG LIMIT")
    try:
        limit = int(words[-1])
    except ValueError:
        fail(f"LIMIT must be an integer >= 1, got {words[-1]!r}")
    with expected_errors():
        name = tag_limit_name(tag) if tag is not None else words[0]
        created = create_limit(name, limit, slot_decay_per_second=decay)
    if as_json:
        print_json(_json(created))
        return
    what = f"tag limit for tag {tag!r}" if tag is not None else "concurrency limit"
    console.print(f"Created {what} {name!r}: {limit} slots"
                  + (f", {decay:g} given back per second." if decay else "."),
                  highlight=False, soft_wrap=True)


@app.command("ls")
def ls(as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one limit per "
                                    "line")) -> None:
    """List every limit by name: slots used and limit, then decay, holders, denied."""
    from tasks_core.concurrency.limits import list_limits

    with expected_errors():
        limits = list_limits()
    if as_json:
        print_json_lines(_json(c) for c in limits)
        return
    if not limits:
        console.print("No concurrency limits. Create one with `tasks-core concurrency-limit "
                      "create NAME LIMIT` (or --tag TAG LIMIT).", highlight=False)
        return
    console.print(limits_table(limits))


@app.command("inspect")
def inspect_limit(name: str | None = typer.Argument(None, help="the limit's name"),
                  tag: str | None = typer.Option(None, "--tag", help=_TAG_HELP),
                  as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
    """Show one limit: slots used, limit, decay, holders, denied slots."""
    from tasks_core.concurrency.limits import read_limit

    resolved = _name(name, tag)
    with expected_errors():
        found = read_limit(resolved)
    if as_json:
        print_json(_json(found))
        return
    console.print(Text.assemble(("Concurrency limit ", "bold"), (found.name, "bold cyan")))
    console.print(field_grid([
        ("Tag", Text(found.tag or EMPTY)), ("Limit", str(found.limit)),
        ("Slots used", f"{found.slots_in_use} ({found.active_slots:g})"),
        ("Decay/s", _decay(found.slot_decay_per_second)), ("Holders", str(found.holders)),
        ("Denied", str(found.denied_slots)), ("Created", format_time(found.created))]))


@app.command("reset")
def reset(name: str | None = typer.Argument(None, help="the limit's name"),
          tag: str | None = typer.Option(None, "--tag", help=_TAG_HELP)) -> None:
    """Free every slot of a limit (its holders lose their leases)."""
    from tasks_core.concurrency.limits import reset_limit

    resolved = _name(name, tag)
    with expected_errors():
        reset_limit(resolved)
    console.print(f"Reset concurrency limit {resolved!r}: every slot is free.",
                  highlight=False, soft_wrap=True)


@app.command("delete")
def delete(name: str | None = typer.Argument(None, help="the limit's name"),
           tag: str | None = typer.Option(None, "--tag", help=_TAG_HELP)) -> None:
    """Delete a limit (blocks and task runs then proceed without it)."""
    from tasks_core.concurrency.limits import delete_limit

    resolved = _name(name, tag)
    with expected_errors():
        delete_limit(resolved)
    console.print(f"Deleted concurrency limit {resolved!r}.", highlight=False, soft_wrap=True)
