"""`tasks-core automation ...`: list, inspect, create, pause, resume, delete and test
automations.

Records go through `tasks_core.automations` (the same checks as `Automation(...).create()`
in Python); `test` replays stored events through an automation's trigger with
`tasks_core.events.triggers.explain` (no action runs). Every error is one red line on
stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from tasks_core.automations.crud import Automation
from tasks_core.automations.replay import REPLAY_MAX as _REPLAY_MAX
from tasks_core.cli.ids import short_ids
from tasks_core.cli.jsonout import print_json, print_json_lines
from tasks_core.cli.output import (
    EMPTY,
    console,
    expected_errors,
    fail,
    field_grid,
    format_time,
    parse_since,
    preview,
    warn,
)
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.events.actions.models import ActionBase
from tasks_core.events.triggers import AnyTrigger, CompoundTrigger, EventTrigger

__all__ = ["REPLAY_MAX", "action_summary", "app", "automations_table", "trigger_summary"]

app = typer.Typer(help="List, inspect, create, pause, resume, delete and test automations.",
                  no_args_is_help=True)

REPLAY_MAX = _REPLAY_MAX
"""Most events `automation test` replays (the newest of the window)."""

SHOWN_FIRINGS = 10
"""Firings `automation test` lists."""

_NAME_HELP = "the automation: its name, its id, or any unique start of the id"


# -- pure formatting ----------------------------------------------------------------------


def trigger_summary(trigger: AnyTrigger) -> str:
    """A trigger in a few words: ``Reactive 1 x tasks-core.flow-run.Completed``,
    ``Proactive < 1 x acme.ping within 60s``, ``compound any of 2``, ``sequence of 3``."""
    if isinstance(trigger, EventTrigger):
        sign = "< " if trigger.posture == "Proactive" else ""
        within = trigger.within.total_seconds()
        span = f" within {within:g}s" if within else ""
        names = ", ".join(sorted(trigger.expect))
        return f"{trigger.posture} {sign}{trigger.threshold} x {names}{span}"
    if isinstance(trigger, CompoundTrigger):
        return f"compound {trigger.require} of {len(trigger.triggers)}"
    return f"sequence of {len(trigger.triggers)}"


def action_summary(actions: Sequence[ActionBase]) -> str:
    """The actions, each in a few words (``Run deployment 'etl/daily'``), comma separated."""
    return ", ".join(a.describe() for a in actions) or EMPTY


def _enabled_text(enabled: bool) -> Text:
    return Text("yes", style="green") if enabled else Text("paused", style="yellow")


AUTOMATION_COLUMNS = (
    Column("ID", style="cyan"), Column("Name", style="bold", shrink=True), Column("Enabled"),
    Column("Trigger", drop=1, flexible=True), Column("Actions", drop=2, flexible=True),
    Column("Owner deployment", drop=3))
"""Columns of `automations_table`: id, name and enabled at any width, the others as room
allows."""


def automations_table(automations: Sequence[Automation], width: int | None = None) -> Table:
    """Automations as a table that fits `width` cells (default: the console's)."""
    short = short_ids(a.id for a in automations)
    rows: list[list[Cell]] = []
    for a in automations:  # user-supplied values go in as Text: never rich markup
        rows.append([Text(short[a.id]), Text(a.name), _enabled_text(a.enabled),
                     Text(trigger_summary(a.trigger)), Text(action_summary(a.actions)),
                     Text(a.owner_deployment_id[:8] if a.owner_deployment_id else EMPTY)])
    return fit_table(AUTOMATION_COLUMNS, rows, width or console.width, title="Automations")


# -- commands -----------------------------------------------------------------------------


@app.command("ls")
def ls(
    as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one automation "
                                 "per line, every field"),
) -> None:
    """List every automation by name: short id, name, enabled, then what fits."""
    from tasks_core.automations import list_automations

    with expected_errors():
        automations = list_automations()
    if as_json:
        print_json_lines(a.model_dump(mode="json") for a in automations)
        return
    if not automations:
        console.print("No automations. Create one with `tasks-core automation create --file "
                      "F.yaml` or a deployment's triggers.", highlight=False)
        return
    console.print(automations_table(automations))


def _fields(a: Automation) -> Table:
    return field_grid([
        ("ID", Text(a.id)),
        ("Name", Text(a.name)),
        ("Description", Text(a.description or EMPTY)),
        ("Enabled", _enabled_text(a.enabled)),
        ("Tags", Text(", ".join(a.tags) or EMPTY)),
        ("Owner deployment", Text(a.owner_deployment_id or EMPTY)),
        ("Created", format_time(a.created)),
        ("Updated", format_time(a.updated)),
        ("Trigger", Text(trigger_summary(a.trigger))),
    ])


@app.command("inspect")
def inspect_automation(
    name: str = typer.Argument(..., help=_NAME_HELP),
    as_json: bool = typer.Option(
        False, "--json", help="print every field as one JSON object, with `loop_stop`: the "
                              "last causal loop the trigger engine stopped, or null"),
) -> None:
    """Show one automation: every field, its trigger, its actions as JSON, and the last loop
    the trigger engine stopped for it."""
    from tasks_core.automations import read_automation
    from tasks_core.process_runtime import get_runtime

    with expected_errors():
        automation = read_automation(name)
        if as_json:
            stop = get_runtime().engine.loop_stop(automation.id)
    if as_json:
        print_json({**automation.model_dump(mode="json"), "loop_stop": stop})
        return
    console.print(Text.assemble(("Automation ", "bold"), (automation.name, "bold cyan")))
    console.print(_fields(automation))
    console.print(Text("Trigger (JSON)", style="bold"))
    console.print(Text(preview(json.dumps(automation.trigger.model_dump(mode="json"),
                                          indent=2))))
    console.print(Text(f"Actions ({len(automation.actions)})", style="bold"))
    for action in automation.actions:
        console.print(Text(f"{action.describe()}: "
                           f"{preview(json.dumps(action.model_dump(mode='json')))}"))
    _print_loop_stop(automation.id)


def _print_loop_stop(automation_id: str) -> None:
    """The last loop the trigger engine stopped for this automation, when there was one."""
    from tasks_core.process_runtime import get_runtime

    with expected_errors():
        stop = get_runtime().engine.loop_stop(automation_id)
    if stop is None:
        return
    chain = " -> ".join(f"{link.get('automation')} on {link.get('event_id')}"
                        for link in stop.get("chain", []))
    console.print(Text("Loop stopped", style="bold yellow"))
    console.print(Text(f"at {stop.get('fired_at')}: a chain of {stop.get('depth')} firings "
                       f"(limit {stop.get('max_chain_depth')}); triggering event "
                       f"{stop.get('triggering_event')}"))
    console.print(Text(f"chain: {chain}"))


@app.command("create")
def create(
    file: Path = typer.Option(..., "--file", "-f", help="a .yaml, .yml or .json file holding "
                              "one automation (name, trigger, actions, ...) or a list"),
) -> None:
    """Create automations from a file (every one is checked before any is stored)."""
    from tasks_core.automations.crud import create_automations
    from tasks_core.automations.files import load_automations

    with expected_errors():
        for saved in create_automations(load_automations(file)):
            console.print(Text.assemble("Created automation ", (saved.name, "bold cyan"),
                                        f" ({saved.id})."))


def _set_enabled(name: str, enabled: bool) -> None:
    from tasks_core.automations import set_enabled

    with expected_errors():
        automation, changed = set_enabled(name, enabled)
    state = "enabled" if enabled else "paused"
    if changed:
        console.print(f"Automation {automation.name} {'resumed' if enabled else 'paused'}.",
                      highlight=False, soft_wrap=True)
    else:
        console.print(f"Automation {automation.name} is already {state}.", highlight=False,
                      soft_wrap=True)


@app.command("pause")
def pause(name: str = typer.Argument(..., help=_NAME_HELP)) -> None:
    """Pause an automation: it does not fire until resumed."""
    _set_enabled(name, False)


@app.command("resume")
def resume(name: str = typer.Argument(..., help=_NAME_HELP)) -> None:
    """Resume a paused automation."""
    _set_enabled(name, True)


@app.command("delete")
def delete(
    name: str = typer.Argument(..., help=_NAME_HELP),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
) -> None:
    """Delete an automation (a deployment's own come back when it is deployed again)."""
    from tasks_core.automations import delete_automation, read_automation

    with expected_errors():
        automation = read_automation(name)
        if not yes and not sys.stdin.isatty():
            fail(f"refusing to delete automation {automation.name!r} without a prompt: "
                 "pass --yes")
        if not yes and not typer.confirm(f"Delete automation {automation.name!r}?",
                                         default=False):
            fail("delete cancelled (nothing was removed)")
        delete_automation(automation.id)
    console.print(f"Deleted automation {automation.name} ({automation.id}).",
                  highlight=False, soft_wrap=True)


@app.command("test")
def test(
    name: str = typer.Argument(..., help=_NAME_HELP),
    since: str = typer.Option("1h", "--since", help="replay events received since then: a "
                              "duration back (30s, 15m, 1h, 2d) or an ISO time"),
    until: str | None = typer.Option(None, "--until", help="and up to then (default now)"),
) -> None:
    """Replay the stored events of a window through the automation's trigger (no action
    runs): when it would have fired, or which condition failed (name, label, threshold,
    window)."""
    from tasks_core.automations import read_automation
    from tasks_core.automations.replay import replay_window

    with expected_errors():
        automation = read_automation(name)
        now = datetime.now(UTC)
        start = parse_since(since, now)
        end = parse_since(until, now) if until else now
        if end < start:
            fail(f"--until ({end.isoformat()}) is before --since ({start.isoformat()})")
        replayed = replay_window(automation, start=start, end=end, max_events=REPLAY_MAX)
        found = replayed.explanation
    if replayed.capped:
        warn(f"replayed the newest {REPLAY_MAX} events of the window only")
    console.print(Text.assemble(("Automation ", "bold"), (automation.name, "bold cyan"),
                                f": {found.events} events from {format_time(start)} to "
                                f"{format_time(end)}"), soft_wrap=True)
    console.print(found.render(), highlight=False, soft_wrap=True)
    for firing in found.firings[:SHOWN_FIRINGS]:
        on = f"  on {firing.event.event} ({firing.event.id})" if firing.event else ""
        console.print(f"  fired at {firing.fired_at.isoformat()}{on}", highlight=False,
                      soft_wrap=True)
    if len(found.firings) > SHOWN_FIRINGS:
        console.print(f"  ... and {len(found.firings) - SHOWN_FIRINGS} more", highlight=False)
    if not automation.enabled:
        console.print("(the automation is paused: it fires nothing until resumed)",
                      highlight=False)
