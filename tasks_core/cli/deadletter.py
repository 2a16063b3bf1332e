"""`tasks-core deadletter ...`: list, inspect, requeue and purge set-aside messages.

A worker moves every message it cannot run (undecodable, an unknown task, arguments of the
wrong shape, a run with no record) to the dead-letter list with the reason, instead of
dropping it or dying of it (`tasks_core.messages`). These commands read that list
(`rt.deadletters`), put a message back on its queue once its cause is fixed, or forget
them. An entry is named by its id or any unique start of it. Every error is one red line
on stderr and exit code 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from tasks_core.cli.ids import SHOWN_MATCHES, ambiguous, short_ids
from tasks_core.cli.jsonout import print_json, print_json_lines
from tasks_core.cli.output import EMPTY, console, expected_errors, fail, field_grid, preview
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.errors import DeadLetterNotFound
from tasks_core.messages import DeadLetter, decoded_body

if TYPE_CHECKING:
    from tasks_core.process_runtime import Runtime

__all__ = ["app", "entries_table", "entry_json", "resolve"]

app = typer.Typer(
    help="Messages workers could not run (undecodable, unknown task, wrong arguments, no run "
         "record), set aside with the reason: list, inspect, requeue, purge.",
    no_args_is_help=True)

_ID_HELP = "the entry's id, or a unique start of it (see `tasks-core deadletter ls`)"
SHORT_ID = 8
"""Characters of an id shown in the table at least (any unique start names an entry)."""


def _runtime() -> Runtime:
    from tasks_core.process_runtime import get_runtime

    return get_runtime()


# -- pure helpers -------------------------------------------------------------------------


def _when(entry: DeadLetter, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return datetime.fromtimestamp(entry.time, UTC).astimezone().strftime(fmt)


DEADLETTER_COLUMNS = (
    Column("ID", style="bold"), Column("Set aside", drop=2), Column("Queue", drop=1),
    Column("Task", shrink=True), Column("Reason", flexible=True, min_width=20))
"""Columns of `entries_table`: id, task and reason (folded) at any width."""


def entries_table(entries: Sequence[DeadLetter], total: int, width: int | None = None) -> Table:
    """Entries as a table that fits `width` cells (default: the console's): short id, task,
    reason, and as room allows time and queue."""
    title = f"Dead letters ({len(entries)} of {total})" if total > len(entries) else \
        f"Dead letters ({total})"
    short = short_ids((e.id for e in entries), SHORT_ID)
    rows: list[list[Cell]] = [  # user-supplied values go in as Text: never rich markup
        [short[e.id], _when(e, "%m-%d %H:%M:%S"), Text(e.queue or EMPTY),
         Text(e.task or EMPTY), Text(e.reason, style="red")] for e in entries]
    return fit_table(DEADLETTER_COLUMNS, rows, width or console.width, title=title)


def entry_json(entry: DeadLetter) -> dict[str, Any]:
    """Every field of an entry, with its time also as ISO 8601 (UTC)."""
    data = {name: getattr(entry, name) for name in entry.__dataclass_fields__}
    data["time_iso"] = datetime.fromtimestamp(entry.time, UTC).isoformat()
    return data


def resolve(rt: Runtime, key: str) -> DeadLetter:
    """The entry named by `key` (an id or a unique start of one).

    Raises:
        DeadLetterNotFound: no entry has it.
        ValidationError: several entries start with it (the first ten are listed).
    """
    key = key.strip().lower()
    entry = rt.deadletters.get(key)
    if entry is not None:
        return entry
    matches = rt.deadletters.ids_starting(key, limit=SHOWN_MATCHES + 1)
    if len(matches) > 1:
        raise ambiguous("dead letter", key, sorted(matches), more=len(matches) > SHOWN_MATCHES)
    entry = rt.deadletters.get(matches[0]) if matches else None
    if entry is None:
        raise DeadLetterNotFound(f"dead letter {key!r} not found (see `tasks-core deadletter "
                                 "ls`)")
    return entry


def _requeue(rt: Runtime, entry: DeadLetter) -> bool:
    """Back on its queue and forgotten; False when another requeue took it first."""
    if rt.dispatcher.direct:
        return rt.deadletters.requeue(entry)
    from tasks_core.store.transport import requeue_via_broker

    requeue_via_broker(rt.app, entry)  # first pushed, then forgotten: never lost
    return rt.deadletters.remove(entry.id)


# -- commands -----------------------------------------------------------------------------


@app.command("ls")
def ls(
    limit: int = typer.Option(100, "--limit", "-n", min=1, help="most entries shown, newest "
                              "first"),
    as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one object per "
                                 "entry, every field (keys in the README)"),
) -> None:
    """List set-aside messages, newest first: id, time, queue, task and reason."""
    with expected_errors():
        rt = _runtime()
        entries = rt.deadletters.entries(limit)
        total = rt.deadletters.count()
    if as_json:
        print_json_lines(entry_json(e) for e in entries)
        return
    if not entries:
        console.print("No dead letters: every message workers received could be run.",
                      highlight=False)
        return
    console.print(entries_table(entries, total))


@app.command("inspect")
def inspect_entry(
    entry_id: str = typer.Argument(..., metavar="ID", help=_ID_HELP),
    as_json: bool = typer.Option(False, "--json", help="print every field as one JSON object"),
) -> None:
    """Show one set-aside message: why, where from, and the message itself."""
    with expected_errors():
        entry = resolve(_runtime(), entry_id)
    if as_json:
        print_json(entry_json(entry))
        return
    body = decoded_body(entry)
    console.print(Text.assemble(("Dead letter ", "bold"), (entry.id, "bold cyan")))
    console.print(field_grid([
        ("Reason", Text(entry.reason, style="red")),
        ("Set aside", _when(entry)),
        ("Caught by", entry.stage),
        ("Queue", Text(entry.queue or EMPTY)),
        ("Priority", str(entry.priority)),
        ("Task", Text(entry.task or EMPTY)),
        ("Message id", Text(entry.message_id or EMPTY)),
        ("Body", Text(preview(body) if body is not None else EMPTY)),
        (f"Raw ({entry.raw_encoding})", Text(preview(entry.raw))),
    ]))
    console.print(Text(f"Put it back with `tasks-core deadletter requeue {entry.id[:SHORT_ID]}`"
                       " once its cause is fixed.", style="dim"))


@app.command("requeue")
def requeue(entry_id: str = typer.Argument(..., metavar="ID", help=_ID_HELP)) -> None:
    """Put a set-aside message back on its queue, exactly as it was, and forget the entry."""
    with expected_errors():
        rt = _runtime()
        entry = resolve(rt, entry_id)
        if not entry.queue:
            fail(f"dead letter {entry.id} has no queue to go back to")
        if not _requeue(rt, entry):
            fail(f"dead letter {entry.id} was requeued or purged meanwhile")
    console.print(Text.assemble("Requeued dead letter ", (entry.id, "bold cyan"),
                                f" onto queue {entry.queue}."))


@app.command("purge")
def purge(
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
) -> None:
    """Forget every set-aside message (they are not run: requeue the ones you want first)."""
    with expected_errors():
        rt = _runtime()
        count = rt.deadletters.count()
        if count == 0:
            console.print("No dead letters to purge.")
            return
        if not yes and not sys.stdin.isatty():
            fail(f"refusing to purge {count} dead letter(s) without a prompt: pass --yes")
        if not yes and not typer.confirm(f"Forget {count} dead letter(s)? They will not run",
                                         default=False):
            fail("purge cancelled (nothing was removed)")
        removed = rt.deadletters.purge()
    console.print(f"Purged {removed} dead letter{'' if removed == 1 else 's'}.")
