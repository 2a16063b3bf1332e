"""Shared rich output of the CLI: consoles, state colours, times, durations, tables, errors.

Pure formatting helpers take `now` as an argument so that tests need no clock. Expected
errors (`TasksCoreError`, Redis errors) become one red line on stderr and exit code 1,
never a traceback: wrap a command's body in `expected_errors()` (defined in
`tasks_core.cli.failing`, which the process commands import without this module's rich).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from tasks_core.cli.consoles import console, err_console
from tasks_core.cli.failing import expected_errors, fail
from tasks_core.cli.ids import short_ids
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.errors import ValidationError
from tasks_core.records import RunRecord, StateEntry
from tasks_core.run_queries import SCAN_LIMIT
from tasks_core.run_tree import run_duration  # re-exported: shared with the dashboard
from tasks_core.states import StateName, StateType, is_terminal, state_type
from tasks_core.times import parse_since  # re-exported: the CLI's --since grammar

__all__ = [
    "EMPTY",
    "RUN_COLUMNS",
    "STATE_STYLES",
    "HistoryRow",
    "attempt_text",
    "console",
    "err_console",
    "expected_errors",
    "fail",
    "field_grid",
    "format_duration",
    "format_time",
    "history_rows",
    "history_table",
    "parse_assignments",
    "parse_since",
    "parse_state",
    "preview",
    "print_run_listing",
    "run_duration",
    "runs_table",
    "state_text",
    "warn",
]

STATE_STYLES: dict[StateType, str] = {
    StateType.SCHEDULED: "yellow",
    StateType.PENDING: "bright_black",
    StateType.RUNNING: "blue",
    StateType.COMPLETED: "green",
    StateType.FAILED: "red",
    StateType.CRASHED: "bold red",
    StateType.CANCELLING: "magenta",
    StateType.CANCELLED: "magenta",
    StateType.PAUSED: "cyan",
}
"""The colour of each state type (every state name is shown in its type's colour)."""

EMPTY = "-"


# -- errors -------------------------------------------------------------------------------
# `fail` and `expected_errors` live in `tasks_core.cli.failing` (no rich at import, for the
# process commands) and are re-exported here.


def warn(message: str) -> None:
    """Print a yellow warning line on stdout (it belongs with the report it qualifies)."""
    console.print(f"[yellow]warning:[/yellow] {escape(message)}", style="yellow",
                  highlight=False)


# -- values -------------------------------------------------------------------------------


def _squash(value: str) -> str:
    return value.replace("_", "").replace("-", "").replace(" ", "").lower()


def parse_state(value: str) -> StateName:
    """A state name from user input, case- and separator-insensitive (`awaiting_retry`).

    Raises:
        ValidationError: unknown name; the message lists every valid name.
    """
    wanted = _squash(value)
    for name in StateName:
        if _squash(name.value) == wanted:
            return name
    valid = ", ".join(name.value for name in StateName)
    raise ValidationError(f"unknown state {value!r}; valid states: {valid}")


def parse_assignments(items: Sequence[str], *, option: str = "--param") -> dict[str, Any]:
    """`KEY=VALUE` pairs as a dict; each value is JSON when it parses, else the plain text.

    ``lat=1`` -> 1, ``xs=[1,2]`` -> [1, 2], ``ok=true`` -> True, ``name=abc`` -> "abc"
    (quote a JSON string, ``'n="1"'``, to pass digits as text). A later key wins.

    Raises:
        ValidationError: an item without ``=`` or with an empty key, or a JSON value nested
            too deeply to read.
    """
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError(
                f"invalid {option} {item!r}: write KEY=VALUE, e.g. {option} lat=1.5")
        try:
            parsed[key] = json.loads(raw)
        except ValueError:
            parsed[key] = raw
        except RecursionError:
            raise ValidationError(f"invalid {option} {key}=...: the value is nested too deeply "
                                  "to read as JSON") from None
    return parsed


def state_text(name: str, message: str = "") -> Text:
    """The state name in its type's colour, followed by its message when there is one."""
    try:
        style = STATE_STYLES[state_type(name)]
    except (KeyError, ValueError):
        style = ""
    text = Text(name, style=style)
    if message:
        text.append(f" ({message})", style="dim")
    return text


def format_time(value: datetime | None) -> str:
    """A timestamp in local time, to the second, or `-`."""
    if value is None:
        return EMPTY
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    """A short duration: `850ms`, `12.3s`, `4m 05s`, `2h 03m`, `1d 04h`; `-` when unknown."""
    if seconds is None:
        return EMPTY
    seconds = max(seconds, 0.0)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def preview(text: str | None, limit: int = 2_000) -> str:
    """JSON text pretty-printed (when it parses) and cut to `limit` characters."""
    if text is None:
        return EMPTY
    try:
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = text
    if len(pretty) > limit:
        return f"{pretty[:limit]}… ({len(pretty)} characters, cut)"
    return pretty


def field_grid(rows: Sequence[tuple[str, Text | str]]) -> Table:
    """Label / value rows as a borderless two-column grid (labels bold, values folded)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid


# -- history ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One state of a run's history and how long the run stayed in it."""

    entry: StateEntry
    seconds: float | None
    current: bool


def history_rows(history: Sequence[StateEntry], now: datetime) -> list[HistoryRow]:
    """Time spent in each state: until the next one; the last until `now` unless terminal."""
    rows = []
    for i, entry in enumerate(history):
        last = i == len(history) - 1
        if not last:
            seconds: float | None = (history[i + 1].timestamp - entry.timestamp).total_seconds()
        elif is_terminal(entry.name):
            seconds = None
        else:
            seconds = (now - entry.timestamp).total_seconds()
        rows.append(HistoryRow(entry, seconds, current=last and not is_terminal(entry.name)))
    return rows


def history_table(history: Sequence[StateEntry], now: datetime) -> Table:
    """The state history as a table: state, type, entered at, time in state, message."""
    table = Table(title="State history", title_justify="left", show_lines=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("State", no_wrap=True)
    table.add_column("Type", style="dim", no_wrap=True)
    table.add_column("Entered", no_wrap=True)
    table.add_column("Time in state", justify="right", no_wrap=True)
    table.add_column("Message", overflow="fold")
    for i, row in enumerate(history_rows(history, now), start=1):
        spent = format_duration(row.seconds)
        if row.current:
            spent += " (so far)"
        table.add_row(str(i), state_text(row.entry.name), row.entry.type.value,
                      format_time(row.entry.timestamp), spent, Text(row.entry.message))
    return table


# -- run tables ---------------------------------------------------------------------------


def attempt_text(record: RunRecord) -> str:
    """`attempt/most attempts` (retries + 1)."""
    return f"{record.attempt}/{record.options.retries + 1}"


def print_run_listing(noun: str, filters: Sequence[str], records: Sequence[RunRecord],
                      table: Callable[[str], Table], *, capped: bool, narrow: str) -> None:
    """Print a filtered run listing: the table (titled with the filters) or a line saying
    none matched, then a note when the scan stopped at SCAN_LIMIT ids."""
    described = ", ".join(filters)
    if not records:
        console.print(f"No {noun}{f' with {described}' if described else ''}.", highlight=False)
    else:
        title = f"{noun.capitalize()}{f' ({described})' if described else ''}, newest first"
        console.print(table(title))
    if capped:
        console.print(f"[dim]Looked at the newest {SCAN_LIMIT} {noun} only; narrow the "
                      f"search with {narrow}.[/dim]")


RUN_COLUMNS = (
    Column("ID", style="cyan"), Column("Name", shrink=True), Column("State"),
    Column("Attempt", drop=3, justify="right"), Column("Queue", drop=5),
    Column("Created", drop=2), Column("Duration", drop=1, justify="right"),
    Column("Worker", drop=4))
"""Columns of `runs_table`: id, name and state at any width; the others as room allows."""


def runs_table(records: Sequence[RunRecord], now: datetime, *, title: str | None = None,
               width: int | None = None) -> Table:
    """Runs as a table that fits `width` cells (default: the console's): short id, name,
    state, then as room allows duration, created, attempt, worker, queue."""
    short = short_ids(record.id for record in records)
    rows: list[list[Cell]] = []
    for record in records:
        seconds, running = run_duration(record, now)
        duration = format_duration(seconds) + (" …" if running else "")
        # user-supplied values go in as Text, so brackets in them are never rich markup
        rows.append([Text(short[record.id]), Text(record.name), state_text(record.state),
                     attempt_text(record), Text(record.queue or EMPTY),
                     format_time(record.created), duration, Text(record.worker or EMPTY)])
    return fit_table(RUN_COLUMNS, rows, width or console.width, title=title)
