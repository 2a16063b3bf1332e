"""`tasks-core events ...`: the event feed (ls, stream) and emitting an event (emit).

Reads go through `tasks_core.events.feed` (globs, newest first, following the stream);
`emit` through `emit_event` (the same checks and limits as in Python). Filters and labels
take Prefect's spellings too (``prefect.flow-run.*``, ``prefect.resource.id=...``). Every
error is one red line on stderr and exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from tasks_core.cli.jsonout import print_json_lines
from tasks_core.cli.output import (
    EMPTY,
    console,
    expected_errors,
    fail,
    format_time,
    parse_since,
)
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.errors import ValidationError
from tasks_core.events.feed import EventFilter, follow, follow_start, list_events
from tasks_core.events.schema import Event

if TYPE_CHECKING:
    from tasks_core.process_runtime import Runtime

__all__ = ["app", "event_line", "events_table", "parse_json_option", "parse_labels"]

app = typer.Typer(
    help="The event feed: list events newest first, follow them live, emit one.",
    no_args_is_help=True)

SHORT_ID = 8
"""Characters of an event id shown in the table."""

_EVENT_HELP = ("event-name glob, e.g. 'tasks-core.flow-run.*' or '*.Failed' (repeat: any "
               "may match)")
_RESOURCE_HELP = "glob on the resource id, e.g. 'tasks-core.deployment.*'"
_RELATED_HELP = "glob that a related resource's id must match, e.g. 'tasks-core.flow.etl'"
_SINCE_HELP = "received at or after: a duration back (30s, 15m, 1h, 2d) or an ISO time"
_JSON_HELP = "print one event per line as JSON (JSON Lines)"


def _runtime() -> Runtime:
    from tasks_core.process_runtime import get_runtime

    return get_runtime()


# -- pure helpers -------------------------------------------------------------------------


def parse_labels(items: Sequence[str], *, option: str = "--resource") -> dict[str, str]:
    """``KEY=VALUE`` labels as a dict of strings (a later key wins).

    Raises:
        ValidationError: an item without ``=`` or with an empty key.
    """
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"invalid {option} {item!r}: write KEY=VALUE, e.g. "
                                  f"{option} tasks-core.resource.id=acme.order.42")
        labels[key.strip()] = value
    return labels


def parse_json_option(text: str | None, option: str, *, kind: type) -> Any:
    """The JSON value of an option, checked to be a `kind` (dict or list); None if unset.

    Raises:
        ValidationError: not JSON, or not a `kind`.
    """
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"invalid {option}: not JSON ({exc})") from None
    if kind is list and isinstance(value, dict):
        value = [value]  # one related resource may be given alone
    if not isinstance(value, kind):
        shape = "a JSON object" if kind is dict else "a JSON object or a list of them"
        raise ValidationError(f"invalid {option}: give {shape}, got {type(value).__name__}")
    return value


def event_line(event: Event) -> str:
    """One line of `events stream`: time, name, resource id."""
    return f"{format_time(event.occurred)}  {event.event}  {event.resource_id}"


EVENT_COLUMNS = (
    Column("Occurred"), Column("Event", style="bold", shrink=True),
    Column("Resource", flexible=True, min_width=16), Column("ID", drop=1),
    Column("Related", drop=2, flexible=True))
"""`events ls`: the time and the whole event name on one line at any width (so `events ls
| grep NAME` finds it), the resource id folded into the width left, then what fits."""


def events_table(events: Sequence[Event], title: str, width: int | None = None) -> Table:
    """Events as a table fitting `width` cells (the console's by default): occurred, event,
    resource, short id, related ids."""
    rows: list[list[Cell]] = [  # user-supplied values go in as Text: never rich markup
        [format_time(e.occurred), Text(e.event), Text(e.resource_id), e.id[:SHORT_ID],
         Text(", ".join(e.related_ids()) or EMPTY)] for e in events]
    return fit_table(EVENT_COLUMNS, rows, width or console.width, title=title)


def _filter(event: list[str] | None, resource: str | None, related: str | None,
            since: str | None, until: str | None) -> EventFilter:
    now = datetime.now(UTC)
    return EventFilter(events=tuple(event or ()), resource=resource, related=related,
                       since=parse_since(since, now) if since else None,
                       until=parse_since(until, now) if until else None)


# -- commands -----------------------------------------------------------------------------


@app.command("ls")
def ls(
    event: list[str] | None = typer.Option(None, "--event", "-e", help=_EVENT_HELP),
    resource: str | None = typer.Option(None, "--resource", "-r", help=_RESOURCE_HELP),
    related: str | None = typer.Option(None, "--related", help=_RELATED_HELP),
    since: str | None = typer.Option(None, "--since", help=_SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help="received at or before (as --since)"),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="show at most this many"),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """List events, newest first (run-state, deployment, work-pool and emitted events)."""
    with expected_errors():
        where = _filter(event, resource, related, since, until)
        found = list_events(_runtime().events, where, limit=limit)
    if as_json:
        print_json_lines(e.model_dump(mode="json") for e in found)
        return
    if not found:
        console.print("No events match." if (event or resource or related or since or until)
                      else "No events yet.", highlight=False)
        return
    console.print(events_table(found, f"Events ({len(found)}, newest first)"))


@app.command("stream")
def stream(
    event: list[str] | None = typer.Option(None, "--event", "-e", help=_EVENT_HELP),
    resource: str | None = typer.Option(None, "--resource", "-r", help=_RESOURCE_HELP),
    related: str | None = typer.Option(None, "--related", help=_RELATED_HELP),
    since: str | None = typer.Option(
        None, "--since", help="first replay events received since then (as in `ls`)"),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Follow events live as they are written, oldest first, until Ctrl-C."""
    with expected_errors():
        where = _filter(event, resource, related, since, None)
        try:
            for e in follow(_runtime().events, where, start=follow_start(where.since)):
                print(e.model_dump_json() if as_json else event_line(e), flush=True)
        except KeyboardInterrupt:
            return


@app.command("emit")
def emit(
    name: str = typer.Argument(..., help="the event's name, e.g. acme.order.shipped"),
    resource: list[str] = typer.Option(
        ..., "--resource", "-r",
        help="a resource label KEY=VALUE (repeat); tasks-core.resource.id (or Prefect's "
             "prefect.resource.id) is required"),
    related: str | None = typer.Option(
        None, "--related",
        help='related resources as JSON: an object or a list, each with '
             '"tasks-core.resource.id" and "tasks-core.resource.role"'),
    payload: str | None = typer.Option(None, "--payload", "-p",
                                       help="the payload as a JSON object"),
    event_id: str | None = typer.Option(
        None, "--id", help="the event's id (default: a new UUID); an id already stored is "
                           "not stored again"),
    as_json: bool = typer.Option(False, "--json", help="print the event as JSON"),
) -> None:
    """Emit an event (the same checks and limits as `emit_event` in Python)."""
    from tasks_core.events import emit_event

    with expected_errors():
        labels = parse_labels(resource)
        related_value = parse_json_option(related, "--related", kind=list)
        payload_value = parse_json_option(payload, "--payload", kind=dict)
        sent = emit_event(name, labels, payload=payload_value, related=related_value,
                          id=event_id)
        if not _runtime().emitter.flush(timeout=30):
            fail(f"event {sent.id} not written: Redis did not answer within 30 s")
    if as_json:
        print(sent.model_dump_json())
    else:
        console.print(f"Emitted {sent.event} on {sent.resource_id} (id {sent.id}).",
                      highlight=False, soft_wrap=True)
