"""`tasks-core flow-run ...`: list flow runs, inspect one as a run tree and timeline, logs.

Reading goes through `RunStore`; the tree is gathered level by level from the children
index (`RunIndexes`, one round trip per level) and built and drawn by the pure `run_tree`
module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tasks_core.cli.cancelling import FORCE_HELP, cancel_and_report
from tasks_core.cli.ids import resolve_run, short_ids
from tasks_core.cli.jsonout import print_json, print_json_lines, run_json
from tasks_core.cli.output import (
    EMPTY,
    attempt_text,
    console,
    err_console,
    expected_errors,
    fail,
    format_duration,
    format_time,
    parse_since,
    parse_state,
    preview,
    print_run_listing,
    run_duration,
    state_text,
    warn,
)
from tasks_core.cli.run_tree import (
    RunNode,
    render_timeline,
    render_tree,
    timeline,
    tree_json,
    walk,
)
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.errors import RunNotFound, ValidationError
from tasks_core.records import RunRecord
from tasks_core.run_queries import SCAN_LIMIT, find_runs
from tasks_core.run_tree import TREE_LIMIT, gather_tree
from tasks_core.states import StateName
from tasks_core.store.runs import RunStore, utcnow

if TYPE_CHECKING:
    from tasks_core.process_runtime import Runtime
    from tasks_core.store.run_indexes import RunIndexes

__all__ = ["app", "find_flow_runs", "gather_tree", "read_logs"]

app = typer.Typer(help="List and inspect flow runs: run trees, timelines, logs; cancel or "
                       "resume them (an ID may be any unique start of one, as `ls` shows).",
                  no_args_is_help=True)

_ID_HELP = ("the flow run id, or any unique start of it (`tasks-core flow-run ls` shows "
            "short ones)")

FLOW_RUN_COLUMNS = (
    Column("ID", style="cyan"), Column("Flow", shrink=True), Column("State"),
    Column("Start", drop=2), Column("Duration", drop=1, justify="right"),
    Column("Child runs", drop=3, justify="right"))
"""Columns of `flow_runs_table`: id, flow and state at any width, the others as room allows."""



def _runtime() -> Runtime:
    from tasks_core.process_runtime import get_runtime

    return get_runtime()


# -- ls -----------------------------------------------------------------------------------


def find_flow_runs(
    store: RunStore, *, state: StateName | None, name: str | None, since: datetime | None,
    limit: int,
) -> tuple[list[RunRecord], bool]:
    """The newest flow runs matching the filters, and whether the scan hit SCAN_LIMIT."""
    return find_runs(store, kind="flow", state=state, name=name, since=since, limit=limit)


def flow_runs_table(
    records: Sequence[RunRecord], counts: Sequence[int], now: datetime, *, title: str,
    width: int | None = None,
) -> Table:
    """Flow runs as a table that fits `width` cells (default: the console's): short id,
    flow, state, then as room allows start, duration, child runs."""
    short = short_ids(record.id for record in records)
    rows: list[list[Cell]] = []
    for record, count in zip(records, counts, strict=True):
        seconds, running = run_duration(record, now)
        rows.append([Text(short[record.id]), Text(record.name), state_text(record.state),
                     format_time(record.start_time),
                     format_duration(seconds) + (" …" if running else ""), str(count)])
    return fit_table(FLOW_RUN_COLUMNS, rows, width or console.width, title=title)


@app.command("ls")
def ls(
    state: str | None = typer.Option(
        None, "--state", "-s",
        help="only runs now in this state (Scheduled, Pending, Running, Completed, Failed, ...)"),
    flow: str | None = typer.Option(
        None, "--flow", "-f", help="only runs of this flow (glob patterns like 'etl*' work)"),
    since: str | None = typer.Option(
        None, "--since",
        help="only runs created since: a duration back from now (30m, 1h, 2d) or an ISO "
             "time (2026-11-24T10:00, local time unless it has an offset)"),
    limit: int = typer.Option(20, "--limit", "-l", min=1, max=1000, help="most runs to show"),
    as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one object per run, "
                                 "with full ids and `child_runs` (keys in the README)"),
) -> None:
    """List the newest flow runs (newest first): short id, flow, state, then as many other
    columns as the terminal width allows."""
    now = utcnow()
    with expected_errors():
        wanted = parse_state(state) if state else None
        after = parse_since(since, now) if since else None
        rt = _runtime()
        records, capped = find_flow_runs(rt.store, state=wanted, name=flow, since=after,
                                         limit=limit)
        counts = rt.indexes.child_counts([record.id for record in records])
    if as_json:
        print_json_lines({**run_json(record, now), "child_runs": count}
                         for record, count in zip(records, counts, strict=True))
        if capped:  # on stderr: stdout stays pure JSON Lines
            err_console.print(f"note: looked at the newest {SCAN_LIMIT} flow runs only; "
                              "narrow the search with --state or --since", highlight=False,
                              soft_wrap=True)
        return
    filters = [f"state {wanted.value}" if wanted else "", f"flow {flow!r}" if flow else "",
               f"since {format_time(after)}" if after else ""]
    print_run_listing("flow runs", [f for f in filters if f], records,
                      lambda title: flow_runs_table(records, counts, now, title=title),
                      capped=capped, narrow="--state or --since")


# -- inspect ------------------------------------------------------------------------------


def load_flow_run(store: RunStore, indexes: RunIndexes, run_id: str) -> RunRecord:
    """The flow run named by `run_id` (an id or a unique start of one) with its history; a
    clear `fail` for unknown ids and task runs (ValidationError for an ambiguous start)."""
    try:
        run_id = resolve_run(store, indexes, run_id, "flow")
        record = store.get(run_id)
    except RunNotFound as exc:
        fail(f"flow {exc}; list recent flow runs with `tasks-core flow-run ls`")
    if record.kind == "flow":
        return record
    if record.task_key.startswith("subflow:"):
        flows = [r for r in store.get_many(store.children(record.id)) if r.kind == "flow"]
        if flows:
            fail(f"run {run_id!r} is the placeholder task run of nested flow run "
                 f"{flows[0].id!r}; try `tasks-core flow-run inspect {flows[0].id}`")
    parent = f" of flow run {record.parent_flow_run_id!r}" if record.parent_flow_run_id else ""
    fail(f"run {run_id!r} is a task run{parent}, not a flow run; see it with "
         f"`tasks-core task-run inspect {run_id}`")


@app.command("inspect")
def inspect_run(
    run_id: str = typer.Argument(..., metavar="ID", help=_ID_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the run tree as one nested JSON "
                                 "object"),
) -> None:
    """Show one flow run: its fields, its run tree (tasks and nested flows) and a timeline."""
    with expected_errors():
        rt = _runtime()
        store = rt.store
        record = load_flow_run(store, rt.indexes, run_id)
        tree, capped = gather_tree(store, rt.indexes, record)
        result = store.result_json(record.id)
    now = utcnow()
    if as_json:
        print_json(tree_json(tree, now))
        return
    console.print(Text.assemble(("Flow run ", "bold"), (record.id, "bold cyan")))
    console.print(_details(record, result, tree, now))
    if record.error is not None and record.error.traceback:
        console.print(Panel(Text(record.error.traceback.rstrip(), style="red"),
                            title="Traceback", title_align="left", border_style="red"))
    console.print()
    console.print(Text("Run tree", style="bold"))
    console.print(render_tree(tree, now))
    console.print()
    console.print(Text("Timeline", style="bold"))
    console.print(render_timeline(timeline(tree, now, console.width)), no_wrap=True,
                  overflow="ellipsis")
    if capped:
        warn(f"the tree is cut at {TREE_LIMIT} runs")


def started_by(record: RunRecord) -> str:
    """Why the run exists, when an automation started it: ``automation 'X' on event <id>
    (<name>)``; else the empty mark."""
    by = record.triggered_by
    if by is None:
        return EMPTY
    if by.event_id is None:
        return f"automation {by.automation_name!r} (a proactive trigger: no event came)"
    return f"automation {by.automation_name!r} on event {by.event_id} ({by.event})"


def _details(record: RunRecord, result: str | None, tree: RunNode, now: datetime) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    seconds, running = run_duration(record, now)
    runs = sum(1 for _ in walk(tree)) - 1
    rows: list[tuple[str, Text | str]] = [
        ("Name", Text(record.name)),
        ("Kind", record.kind),
        ("State", state_text(record.state, record.state_message)),
        ("Attempt", attempt_text(record)),
        ("Version", Text(record.flow_version or EMPTY)),
        ("Deployment", Text(record.deployment_id or EMPTY)),
        ("Tags", Text(", ".join(record.tags) or EMPTY)),
        ("Created", format_time(record.created)),
        ("Started", format_time(record.start_time)),
        ("Ended", format_time(record.end_time)),
        ("Duration", format_duration(seconds) + (" (running)" if running else "")),
        ("Worker", Text(record.worker or EMPTY)),
        ("Parent flow run", Text(record.parent_flow_run_id or EMPTY)),
        ("Placeholder task run", Text(record.parent_task_run_id or EMPTY)),
        ("Runs in tree", str(runs)),
        ("Started by", Text(started_by(record))),
        ("Parameters", Text(preview(json.dumps(record.parameters)))),
        ("Result", Text(preview(result)) if result is not None else Text(EMPTY)),
    ]
    if record.error is not None:
        rows.append(("Error", Text(f"{record.error.type}: {record.error.message}", style="red")))
    for key, value in rows:
        grid.add_row(key, value)
    return grid


# -- logs ---------------------------------------------------------------------------------


def read_logs(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """The log entries of one run, oldest first (`RunStore.logs`).

    An entry that is not a JSON object is kept as its text in `message`; a malformed
    one is a clear error, not a traceback.
    """
    try:
        entries = store.logs(run_id)
    except ValueError as exc:
        raise ValidationError(f"malformed log entry of run {run_id!r}: {exc}") from None
    return [entry if isinstance(entry, dict) else {"message": str(entry)}
            for entry in entries]


_LEVEL_STYLES = {"DEBUG": "dim", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "bold red"}


def _timestamp(value: Any) -> datetime | None:
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return None


def _log_line(entry: dict[str, Any], prefix: str | None) -> Text:
    line = Text()
    if prefix is not None:
        line.append(f"{prefix} ", style="cyan")
    moment = _timestamp(entry.get("timestamp"))
    when = (moment.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if moment
            else str(entry.get("timestamp", EMPTY)))
    level = str(entry.get("level", "")).upper()
    line.append(when + " ", style="dim")
    line.append(f"{level:<8} ", style=_LEVEL_STYLES.get(level, ""))
    if entry.get("logger"):
        line.append(f"{entry['logger']}: ", style="dim")
    line.append(str(entry.get("message", "")))
    return line


def merged_logs(
    runs: Sequence[RunRecord], reader: Callable[[str], list[dict[str, Any]]]
) -> list[tuple[RunRecord, dict[str, Any]]]:
    """Every entry of `runs`, ordered by timestamp (an unreadable one keeps its place
    after the entry before it in its run)."""
    tagged: list[tuple[float, int, RunRecord, dict[str, Any]]] = []
    for record in runs:
        last = float("-inf")
        for entry in reader(record.id):
            moment = _timestamp(entry.get("timestamp"))
            last = moment.timestamp() if moment else last
            tagged.append((last, len(tagged), record, entry))
    tagged.sort(key=lambda item: (item[0], item[1]))
    return [(record, entry) for _, _, record, entry in tagged]


@app.command("logs")
def logs(
    run_id: str = typer.Argument(..., metavar="ID", help=_ID_HELP),
    tree: bool = typer.Option(
        False, "--tree", help="include the logs of every run in the tree, by time, each "
                              "line prefixed with its run's name"),
) -> None:
    """Print the log entries of a flow run (oldest first)."""
    with expected_errors():
        rt = _runtime()
        store = rt.store
        record = load_flow_run(store, rt.indexes, run_id)
        runs = ([node.record for _, node in walk(gather_tree(store, rt.indexes, record)[0])]
                if tree else [record])
        entries = merged_logs(runs, lambda rid: read_logs(store, rid))
    if not entries:
        scope = " or the runs in its tree" if tree else ""
        console.print(f"No log entries for flow run {record.id}{scope}.", highlight=False)
        return
    width = max(len(run.name) for run, _ in entries)
    for run, entry in entries:
        prefix = f"[{run.name}]".ljust(width + 2) if tree else None
        console.print(_log_line(entry, prefix), highlight=False, soft_wrap=True)


@app.command("cancel")
def cancel(
    run_id: str = typer.Argument(..., metavar="ID", help=_ID_HELP),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Cancel a flow run and every run started inside it: one not started yet never starts
    (Cancelled); a running one is told to stop (Cancelling, then Cancelled)."""
    cancel_and_report(run_id, "flow", force=force)
