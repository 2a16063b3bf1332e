"""`tasks-core deployment ...`: list, inspect, run, pause, resume and delete deployments.

Deployments are read and written through `DeploymentStore` (an unknown name fails with the
close matches its `DeploymentNotFound` names); runs are created by `run_deployment`, so the
CLI validates parameters exactly as the Python API does. A deployment's recent flow runs
are found by a bounded scan of the flow-run index, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from tasks_core.cli.ids import short_ids
from tasks_core.cli.jsonout import print_json, print_json_lines
from tasks_core.cli.output import (
    EMPTY,
    console,
    expected_errors,
    fail,
    field_grid,
    format_duration,
    format_time,
    parse_assignments,
    preview,
    runs_table,
    state_text,
    warn,
)
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.deployment_models import Deployment
from tasks_core.records import RunRecord
from tasks_core.run_queries import SCAN_LIMIT, find_runs
from tasks_core.states import StateName, is_terminal
from tasks_core.store.runs import RunStore, utcnow

if TYPE_CHECKING:
    from tasks_core.deployments import FlowRunResult
    from tasks_core.store.deployments import DeploymentStore

__all__ = ["ParameterInfo", "app", "deployment_line_json", "deployments_table",
           "parameter_infos", "recent_flow_runs", "schedule_summary"]

app = typer.Typer(help="List, inspect, run, pause, resume and delete deployments.",
                  no_args_is_help=True)

RECENT_RUNS = 5
"""Flow runs `inspect` shows for a deployment."""

_NAME_HELP = ("the deployment: flow-name/deployment-name, its id, or any unique start of the id "
              "(see `tasks-core deployment ls`)")
_DONE = (StateName.COMPLETED, StateName.CACHED)


def _deployments() -> DeploymentStore:
    # imported here: tasks_core.deployments pulls in Celery, which `--help` never needs
    from tasks_core.deployments import deployment_store

    return deployment_store()


def _runs() -> RunStore:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().store


# -- pure formatting ----------------------------------------------------------------------


def schedule_summary(schedule: dict[str, Any]) -> str:
    """One schedule in a few words: `cron 0 * * * * (UTC)`, `every 1h 00m`, `rrule ...`."""
    zone = f" ({schedule['timezone']})" if schedule.get("timezone") else ""
    if "cron" in schedule:
        text = f"cron {schedule['cron']}{zone}"
    elif "interval" in schedule:
        text = f"every {format_duration(float(schedule['interval']))}"
    elif "rrule" in schedule:
        text = f"rrule {schedule['rrule']}{zone}"
    else:
        text = json.dumps(schedule, sort_keys=True)
    return text if schedule.get("active", True) else f"{text} [inactive]"


def schedules_summary(schedules: Sequence[dict[str, Any]]) -> str:
    """Every schedule, comma separated, or `-`."""
    return ", ".join(schedule_summary(s) for s in schedules) or EMPTY


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    """One flow parameter as its deployment's JSON schema describes it."""

    name: str
    type: str
    required: bool
    default: Any
    has_default: bool


def _type_name(spec: dict[str, Any]) -> str:
    options = spec.get("anyOf") or spec.get("oneOf")
    if options:
        return " | ".join(_type_name(option) for option in options)
    if "$ref" in spec:
        return str(spec["$ref"]).rsplit("/", 1)[-1]
    if "enum" in spec:
        return "one of " + ", ".join(json.dumps(v) for v in spec["enum"])
    kind = spec.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array" and isinstance(spec.get("items"), dict):
        return f"array[{_type_name(spec['items'])}]"
    return str(kind) if kind else "any"


def parameter_infos(schema: dict[str, Any]) -> list[ParameterInfo]:
    """The parameters a schema declares, in signature order: name, type, required, default."""
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    return [ParameterInfo(name=name, type=_type_name(spec), required=name in required,
                          default=spec.get("default"), has_default="default" in spec)
            for name, spec in properties.items()]


# -- reading ------------------------------------------------------------------------------


def recent_flow_runs(
    store: RunStore, deployment_id: str, *, limit: int = RECENT_RUNS
) -> tuple[list[RunRecord], bool]:
    """The newest flow runs of a deployment, and whether the scan hit SCAN_LIMIT."""
    return find_runs(store, kind="flow", state=None, name=None, limit=limit,
                     where=lambda record: record.deployment_id == deployment_id)


# -- ls -----------------------------------------------------------------------------------


def _paused_text(paused: bool) -> Text:
    return Text("paused", style="yellow") if paused else Text("no", style="dim")


DEPLOYMENT_COLUMNS = (
    Column("ID", style="cyan"), Column("Name", style="bold", shrink=True), Column("Paused"),
    Column("Work pool / queue", drop=1), Column("Schedules", drop=2, flexible=True),
    Column("Tags", drop=3, flexible=True))
"""Columns of `deployments_table`: id, name and paused at any width, the others as room
allows (schedules and tags fold)."""


def deployments_table(deployments: Sequence[Deployment], width: int | None = None) -> Table:
    """Deployments as a table that fits `width` cells (default: the console's): short id,
    name, paused, then as room allows work pool/queue, schedules, tags."""
    short = short_ids(d.id for d in deployments)
    rows: list[list[Cell]] = []
    for d in deployments:
        pool = d.work_pool_name + (f" / {d.work_queue_name}" if d.work_queue_name else "")
        # user-supplied values go in as Text, so brackets in them are never rich markup
        rows.append([Text(short[d.id]), Text(d.full_name), _paused_text(d.paused), Text(pool),
                     Text(schedules_summary(d.schedules)), Text(", ".join(d.tags) or EMPTY)])
    return fit_table(DEPLOYMENT_COLUMNS, rows, width or console.width, title="Deployments")


def deployment_line_json(deployment: Deployment) -> dict[str, Any]:
    """A deployment as one line of `deployment ls --json`: every field of the record, and
    `full_name` (``flow/name``) and `queue` (its Celery queue)."""
    return {**deployment.model_dump(mode="json"), "full_name": deployment.full_name,
            "queue": deployment.queue}


@app.command("ls")
def ls(
    as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one object per "
                                 "deployment, every field (keys in the README)"),
) -> None:
    """List every deployment (by name): short id, name, paused, then as many other columns
    as the terminal width allows."""
    with expected_errors():
        deployments = _deployments().list()
    if as_json:
        print_json_lines(deployment_line_json(d) for d in deployments)
        return
    if not deployments:
        console.print("No deployments. Create one with `your_flow.deploy(\"name\", ...)`.",
                      highlight=False)
        return
    console.print(deployments_table(deployments))


# -- inspect ------------------------------------------------------------------------------


def _run_json(record: RunRecord) -> dict[str, Any]:
    return {"id": record.id, "name": record.name, "state": record.state.value,
            "state_message": record.state_message, "parameters": record.parameters,
            "created": record.created.isoformat(),
            "start_time": record.start_time.isoformat() if record.start_time else None,
            "end_time": record.end_time.isoformat() if record.end_time else None}


def deployment_json(deployment: Deployment, runs: Sequence[RunRecord]) -> dict[str, Any]:
    """Every field of a deployment, its parameter summary and its recent flow runs."""
    return {**deployment_line_json(deployment),
            "parameter_summary": [
                {"name": p.name, "type": p.type, "required": p.required,
                 **({"default": p.default} if p.has_default else {})}
                for p in parameter_infos(deployment.parameter_schema)],
            "recent_flow_runs": [_run_json(record) for record in runs]}


def _fields(d: Deployment) -> Table:
    schedules = "\n".join(schedule_summary(s) for s in d.schedules) or EMPTY
    return field_grid([
        ("ID", Text(d.id)),
        ("Flow", Text(d.flow_name)),
        ("Name", Text(d.name)),
        ("Description", Text(d.description or EMPTY)),
        ("Version", Text(d.version or EMPTY)),
        ("Entrypoint", Text(d.entrypoint)),
        ("Source", Text(d.source or EMPTY)),
        ("Source ref", Text(d.source_ref or EMPTY)),
        ("Work pool", Text(d.work_pool_name)),
        ("Work queue", Text(d.work_queue_name or EMPTY)),
        ("Celery queue", Text(d.queue)),
        ("Paused", _paused_text(d.paused)),
        ("Tags", Text(", ".join(d.tags) or EMPTY)),
        ("Created", format_time(d.created)),
        ("Updated", format_time(d.updated)),
        ("Schedules", Text(schedules)),
        ("Default parameters", Text(preview(json.dumps(d.parameters)))),
    ])


def parameters_table(d: Deployment) -> Table:
    """The flow's parameters: type, required, the flow's default, the deployment's default."""
    table = Table(title="Parameters", title_justify="left")
    table.add_column("Name", style="bold", no_wrap=True)
    table.add_column("Type", overflow="fold")
    table.add_column("Required", no_wrap=True)
    table.add_column("Flow default", overflow="fold")
    table.add_column("Deployment default", overflow="fold")
    for p in parameter_infos(d.parameter_schema):
        table.add_row(Text(p.name), Text(p.type), "yes" if p.required else "no",
                      Text(json.dumps(p.default) if p.has_default else EMPTY),
                      Text(json.dumps(d.parameters[p.name]) if p.name in d.parameters
                           else EMPTY))
    return table


@app.command("inspect")
def inspect_deployment(
    name: str = typer.Argument(..., help=_NAME_HELP),
    as_json: bool = typer.Option(False, "--json", help="print every field as one JSON object"),
) -> None:
    """Show one deployment: every field, its parameters, triggers and newest flow runs."""
    with expected_errors():
        deployment = _deployments().get(name)
        runs, capped = recent_flow_runs(_runs(), deployment.id)
    if as_json:
        print_json(deployment_json(deployment, runs))
        return
    console.print(Text.assemble(("Deployment ", "bold"), (deployment.full_name, "bold cyan")))
    console.print(_fields(deployment))
    console.print()
    if deployment.parameter_schema.get("properties"):
        console.print(parameters_table(deployment))
    else:
        console.print("[bold]Parameters[/bold]: none")
    console.print()
    console.print(Text(f"Triggers ({len(deployment.triggers)})", style="bold"))
    for trigger in deployment.triggers:
        console.print(Text(preview(json.dumps(trigger))))
    console.print()
    if runs:
        console.print(runs_table(runs, utcnow(), title="Newest flow runs"))
    else:
        console.print("No flow runs of this deployment.", highlight=False)
    if capped:
        warn(f"looked at the newest {SCAN_LIMIT} flow runs only")


# -- run ----------------------------------------------------------------------------------


def _print_outcome(run: FlowRunResult) -> None:
    """The final state and the result (Completed) or the error; exit 1 unless Completed."""
    console.print(Text.assemble(("Final state: ", "bold"),
                                state_text(run.state, run.state_message)))
    if run.state in _DONE:
        with expected_errors():
            value = run.result()
        console.print(Text.assemble(("Result: ", "bold"), preview(json.dumps(value))))
        return
    detail = (f"{run.error.type}: {run.error.message}" if run.error
              else run.state_message or run.state.value)
    fail(f"flow run {run.id} ended {run.state.value}: {detail}")


def _watch(run: FlowRunResult, timeout: float | None) -> None:
    """Print each state change of the run as it happens (see `tasks_core.cli.watch`), then
    its outcome; exit 1 unless it completed (or 130 on Ctrl-C: the run carries on)."""
    from tasks_core.cli.watch import watch_run
    from tasks_core.deployments import FlowRunResult

    store = _runs()
    suffix = f" for up to {timeout:g}s" if timeout is not None else ""
    console.print(f"[dim]Watching{suffix}; Ctrl-C stops watching (the run carries on).[/dim]")
    try:
        with expected_errors():
            watch_run(store, run.id, timeout)
            final = FlowRunResult.model_validate(store.get(run.id).model_dump())
    except KeyboardInterrupt:
        fail(f"stopped watching; flow run {run.id} carries on", code=130)
    if not is_terminal(final.state):
        waited = f" after {timeout:g}s" if timeout is not None else ""
        fail(f"flow run {run.id} is still {final.state.value}{waited}; "
             f"follow it with `tasks-core flow-run inspect {run.id}`")
    _print_outcome(final)


@app.command("run")
def run_command(
    name: str = typer.Argument(..., help=_NAME_HELP),
    params: list[str] | None = typer.Option(
        None, "--param", "-p", metavar="KEY=VALUE",
        help="a parameter over the deployment's defaults (repeat it); the value is JSON "
             "when it parses (1, 2.5, true, '[1,2]', '{\"a\": 1}'), else plain text"),
    watch: bool = typer.Option(
        False, "--watch", "-w",
        help="wait for the run to end, printing each state change as it happens (a line "
             "'HH:MM:SS State' each; a spinner under them on a terminal), then its result "
             "or error; exit 1 unless it completed"),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0, help="with --watch: most seconds to wait (default: no limit)"),
) -> None:
    """Create a flow run of a deployment (parameters are checked first)."""
    if timeout is not None and not watch:
        fail("--timeout applies only with --watch")
    from tasks_core.deployments import run_deployment

    with expected_errors():
        parameters = parse_assignments(params or [])
        # timeout=0 returns at once: the run id is printed before any waiting
        run = run_deployment(name, parameters, timeout=0, as_subflow=False)
    console.print(Text.assemble("Created flow run ", (run.id, "bold cyan"),
                                f" of deployment {name}"))
    if not watch:  # a watch prints every state, from the first
        console.print(Text.assemble(("State: ", "bold"), state_text(run.state)))
    console.print(Text.assemble(("Parameters: ", "bold"), json.dumps(run.parameters)))
    if watch:
        _watch(run, timeout)


# -- pause, resume, delete ----------------------------------------------------------------


def _set_paused(name: str, paused: bool) -> None:
    word = "paused" if paused else "resumed"
    with expected_errors():
        store = _deployments()
        deployment = store.get(name)
        if deployment.paused == paused:
            console.print(f"Deployment {deployment.full_name} is already "
                          f"{'paused' if paused else 'active'}.", highlight=False)
            return
        from tasks_core.deployments import set_paused

        set_paused(deployment.id, paused)
    console.print(f"Deployment {deployment.full_name} {word}.", highlight=False)


@app.command("pause")
def pause(name: str = typer.Argument(..., help=_NAME_HELP)) -> None:
    """Pause a deployment: schedules and triggers skip it until resumed (`run` still works)."""
    _set_paused(name, True)


@app.command("resume")
def resume(name: str = typer.Argument(..., help=_NAME_HELP)) -> None:
    """Resume a paused deployment."""
    _set_paused(name, False)


@app.command("delete")
def delete(name: str = typer.Argument(..., help=_NAME_HELP)) -> None:
    """Delete a deployment and cancel its queued scheduled runs (past flow runs stay until
    they expire)."""
    from tasks_core.deployments import delete_deployment

    with expected_errors():
        deployment = delete_deployment(name)
    console.print(f"Deleted deployment {deployment.full_name} ({deployment.id}).",
                  highlight=False)
