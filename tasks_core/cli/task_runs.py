"""`tasks-core task-run ...`: list and inspect task runs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tasks_core.cli.cancelling import FORCE_HELP, cancel_and_report
from tasks_core.cli.ids import resolve_run
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
    history_table,
    parse_state,
    preview,
    print_run_listing,
    run_duration,
    runs_table,
    state_text,
)
from tasks_core.errors import RunNotFound
from tasks_core.records import RunRecord
from tasks_core.run_queries import SCAN_LIMIT, find_runs
from tasks_core.store.runs import utcnow

__all__ = ["app"]

app = typer.Typer(help="List, inspect and cancel task runs (an ID may be any unique start "
                       "of one, as `ls` shows).", no_args_is_help=True)

_ID_HELP = ("the task run id, or any unique start of it (`tasks-core task-run ls` shows "
            "short ones)")


@app.command("ls")
def ls(
    state: str | None = typer.Option(
        None, "--state", "-s",
        help="only runs now in this state (Scheduled, Pending, Running, Completed, Failed, ...)"),
    name: str | None = typer.Option(
        None, "--name", "-n", help="only runs of this task name (glob patterns like 'etl*' work)"),
    limit: int = typer.Option(20, "--limit", "-l", min=1, max=1000, help="most runs to show"),
    as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one object per run, "
                                 "with full ids (keys in the README)"),
) -> None:
    """List the newest task runs (newest first): short id, name, state, then as many other
    columns as the terminal width allows."""
    with expected_errors():
        wanted = parse_state(state) if state else None
        from tasks_core.process_runtime import get_runtime

        records, capped = find_runs(get_runtime().store, state=wanted, name=name, limit=limit)
    if as_json:
        now = utcnow()
        print_json_lines(run_json(record, now) for record in records)
        if capped:  # on stderr: stdout stays pure JSON Lines
            err_console.print(f"note: looked at the newest {SCAN_LIMIT} task runs only; narrow "
                              "the search with --state", highlight=False, soft_wrap=True)
        return
    filters = [f"state {wanted.value}" if wanted else "", f"name {name!r}" if name else ""]
    print_run_listing("task runs", [f for f in filters if f], records,
                      lambda title: runs_table(records, utcnow(), title=title),
                      capped=capped, narrow="--state")


@app.command("inspect")
def inspect_run(
    run_id: str = typer.Argument(..., metavar="ID", help=_ID_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the record (and result) as one "
                                 "JSON object"),
) -> None:
    """Show one task run: every field, parameters, result, error and state history."""
    with expected_errors():
        from tasks_core.process_runtime import get_runtime

        rt = get_runtime()
        try:
            run_id = resolve_run(rt.store, rt.indexes, run_id, "task")
            record = rt.store.get(run_id)
        except RunNotFound as exc:
            fail(f"task {exc}; list recent runs with `tasks-core task-run ls`")
        result = rt.store.result_json(run_id)
    if as_json:
        print_json(_as_json(record, result))
        return
    now = utcnow()
    console.print(Text.assemble(("Task run ", "bold"), (record.id, "bold cyan")))
    console.print(_details(record, result, now))
    if record.error is not None and record.error.traceback:
        console.print(Panel(Text(record.error.traceback.rstrip(), style="red"),
                            title="Traceback", title_align="left", border_style="red"))
    console.print(history_table(record.history, now))


def _as_json(record: RunRecord, result: str | None) -> dict[str, Any]:
    data = record.model_dump(mode="json")
    try:
        data["result"] = json.loads(result) if result is not None else None
    except ValueError:
        data["result"] = result
    return data


def _details(record: RunRecord, result: str | None, now: datetime) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    seconds, running = run_duration(record, now)
    rows: list[tuple[str, Text | str]] = [
        ("Name", Text(record.name)),
        ("Run name", Text(record.task_run_name or EMPTY)),
        ("Task key", Text(record.task_key or EMPTY)),
        ("Kind", record.kind),
        ("State", state_text(record.state, record.state_message)),
        ("Attempt", attempt_text(record)),
        ("Queue", Text(record.queue or EMPTY)),
        ("Priority", str(record.priority)),
        ("Tags", Text(", ".join(record.tags) or EMPTY)),
        ("Created", format_time(record.created)),
        ("Scheduled", format_time(record.scheduled_time)),
        ("Started", format_time(record.start_time)),
        ("Ended", format_time(record.end_time)),
        ("Duration", format_duration(seconds) + (" (running)" if running else "")),
        ("Worker", Text(record.worker or EMPTY)),
        ("Owner", Text(record.owner or EMPTY)),
        ("Parent task run", Text(record.parent_task_run_id or EMPTY)),
        ("Parent flow run", Text(record.parent_flow_run_id or EMPTY)),
        ("Options", Text(_options(record))),
        ("Parameters", Text(preview(json.dumps(record.parameters)))),
        ("Result", _result(record, result)),
    ]
    if record.expires is not None:  # Celery's calling options (tasks_core.engine.calling)
        rows.append(("Expires", format_time(record.expires)))
    if record.headers:
        rows.append(("Headers", Text(preview(json.dumps(record.headers)))))
    if record.shadow:
        rows.append(("Shadow", Text(record.shadow)))
    if record.error is not None:
        rows.append(("Error", Text(f"{record.error.type}: {record.error.message}", style="red")))
    for key, value in rows:
        grid.add_row(key, value)
    return grid


def _options(record: RunRecord) -> str:
    opts = record.options
    parts = [f"retries={opts.retries}"]
    if opts.retry_delays:
        parts.append("retry_delays=[" + ", ".join(f"{d:g}" for d in opts.retry_delays) + "]")
    if opts.retry_jitter_factor is not None:
        parts.append(f"retry_jitter_factor={opts.retry_jitter_factor:g}")
    if opts.timeout_seconds is not None:
        parts.append(f"timeout_seconds={opts.timeout_seconds:g}")
    return ", ".join(parts)


def _result(record: RunRecord, result: str | None) -> Text:
    if result is not None:
        text = Text(preview(result))
        text.append(f"  ({record.result_size} bytes of JSON)", style="dim")
        return text
    if record.result_ref or record.result_size:  # one was stored (in the record or a key)
        return Text("expired (results live TASKS_CORE_RESULT_TTL_SECONDS)", style="dim")
    return Text(EMPTY)


@app.command("cancel")
def cancel(
    run_id: str = typer.Argument(..., metavar="ID", help=_ID_HELP),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Cancel a task run and every run started inside it: one not started yet never starts
    (Cancelled); a running one is told to stop (Cancelling, then Cancelled)."""
    cancel_and_report(run_id, "task", force=force)
