"""`tasks-core artifact ...`: list and inspect the artifacts runs created.

`ls` shows the latest version of each keyed artifact, newest first (Prefect's artifact
listing); `ls --key K` shows every version of K. `inspect` takes an artifact id (or a
unique start of one, as the table prints it) or a key (its latest version, with the ids of
the others). Unkeyed artifacts are seen on their runs (`--run ID`, the dashboard's run
pages, ``/api/flow_runs/{id}/artifacts``). Every error is one red line on stderr and exit
code 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from tasks_core.artifact_records import Artifact, check_key, is_artifact_id, table_rows
from tasks_core.cli.ids import SHORT_ID, SHOWN_MATCHES, ambiguous, short_ids
from tasks_core.cli.jsonout import print_json, print_json_lines
from tasks_core.cli.output import EMPTY, console, expected_errors, field_grid, format_time
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.errors import ArtifactNotFound

if TYPE_CHECKING:
    from tasks_core.store.artifacts import ArtifactStore

__all__ = ["app", "artifact_json", "artifacts_table", "data_text", "resolve"]

app = typer.Typer(
    help="Artifacts runs created (markdown, tables, links, progress; "
         "tasks_core.artifacts): list and inspect.",
    no_args_is_help=True)


def _store() -> ArtifactStore:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().artifacts


# -- pure helpers -------------------------------------------------------------------------

ARTIFACT_COLUMNS = (
    Column("ID", style="cyan"), Column("Key", style="bold", shrink=True), Column("Type"),
    Column("Run", drop=2), Column("Updated", drop=1),
    Column("Description", flexible=True, min_width=16, drop=3))
"""Columns of `artifacts_table`: id, key and type at any width."""


def artifacts_table(artifacts: Sequence[Artifact], width: int | None = None,
                    title: str = "Artifacts") -> Table:
    """Artifacts as a table that fits `width` cells (default: the console's)."""
    short = short_ids(a.id for a in artifacts)
    runs = short_ids(a.run_id for a in artifacts if a.run_id)
    rows: list[list[Cell]] = [  # user-supplied values go in as Text: never rich markup
        [short[a.id], Text(a.key or EMPTY), a.type, runs.get(a.run_id or "", EMPTY),
         format_time(a.updated), Text((a.description or "").replace("\n", " ") or EMPTY)]
        for a in artifacts]
    return fit_table(ARTIFACT_COLUMNS, rows, width or console.width,
                     title=f"{title} ({len(artifacts)})")


def artifact_json(artifact: Artifact, versions: Sequence[str] | None = None) -> dict[str, Any]:
    """Every field of an artifact (times ISO 8601), plus ``versions`` when given (ids of
    its key's versions, newest first)."""
    data = artifact.model_dump(mode="json")
    if versions is not None:
        data["versions"] = list(versions)
    return data


def data_text(artifact: Artifact) -> str:
    """The artifact's data as plain text for a terminal."""
    if artifact.type == "markdown":
        return str(artifact.data)
    if artifact.type == "progress":
        return f"{float(artifact.data):.1f}%"
    if artifact.type == "link":
        return f"{artifact.data.get('link_text') or ''} <{artifact.data.get('link')}>".strip()
    headers, rows = table_rows(artifact.data)
    lines = [" | ".join(headers)] if headers else []
    lines += [" | ".join("" if v is None else str(v) for v in row) for row in rows]
    return "\n".join(lines)


def resolve(store: ArtifactStore, name: str) -> tuple[Artifact, list[str]]:
    """The artifact `name` names and the ids of its key's versions, newest first: an id, a
    key (its latest version), or a unique start of an id.

    Raises:
        ArtifactNotFound: nothing has that id, key or id start.
        ValidationError: several ids start with it (the first ten are listed).
    """
    name = name.strip()
    found = store.get(name) if is_artifact_id(name) else None
    if found is None and _is_key(name):
        versions = store.versions(name)
        if versions:
            return versions[0], [v.id for v in versions]
    if found is None:
        matches = store.ids_starting(name.lower(), limit=SHOWN_MATCHES + 1)
        if len(matches) > 1:
            raise ambiguous("artifact", name, sorted(matches),
                            more=len(matches) > SHOWN_MATCHES)
        found = store.get(matches[0]) if matches else None
    if found is None:
        raise ArtifactNotFound(f"artifact {name!r} not found: no artifact has that id or key "
                               "(see `tasks-core artifact ls`)")
    if found.key:
        return found, [v.id for v in store.versions(found.key)]
    return found, [found.id]


def _is_key(name: str) -> bool:
    try:
        return check_key(name) is not None
    except ValueError:
        return False


# -- commands -----------------------------------------------------------------------------


@app.command("ls")
def ls(
    key: str | None = typer.Option(None, "--key", "-k", help="every version of this key, "
                                   "newest first"),
    run: str | None = typer.Option(None, "--run", help="the artifacts of this task or flow run "
                                   "(its whole id), keyed or not, oldest first"),
    limit: int = typer.Option(100, "--limit", "-n", min=1, help="most artifacts shown"),
    as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one object per "
                                 "artifact, every field (keys in the README)"),
) -> None:
    """List the latest version of each keyed artifact, newest first (--key: one key's
    versions; --run: one run's artifacts)."""
    with expected_errors():
        store = _store()
        if key is not None:
            artifacts = store.versions(check_key(key) or "", limit)
        elif run is not None:
            artifacts = store.of_run(run.strip(), limit)
        else:
            artifacts = store.newest(limit, keyed_only=True)
    if as_json:
        print_json_lines(artifact_json(a) for a in artifacts)
        return
    if not artifacts:
        what = f"with key {key!r}" if key else f"of run {run}" if run else "with a key"
        console.print(f"No artifacts {what}.", highlight=False)
        return
    console.print(artifacts_table(artifacts))


@app.command("inspect")
def inspect_artifact(
    name: str = typer.Argument(..., metavar="KEY_OR_ID", help="an artifact key (its latest "
                               "version) or id (or a unique start of an id)"),
    as_json: bool = typer.Option(False, "--json", help="print every field as one JSON object, "
                                 "with `versions`: the ids of its key's versions, newest first"),
) -> None:
    """Show one artifact: its data, where it came from, and its key's other versions."""
    with expected_errors():
        artifact, versions = resolve(_store(), name)
    if as_json:
        print_json(artifact_json(artifact, versions))
        return
    console.print(Text.assemble(("Artifact ", "bold"), (artifact.id, "bold cyan")))
    console.print(field_grid([
        ("Key", Text(artifact.key or EMPTY)),
        ("Type", artifact.type),
        ("Description", Text(artifact.description or EMPTY)),
        ("Flow run", Text(artifact.flow_run_id or EMPTY)),
        ("Task run", Text(artifact.task_run_id or EMPTY)),
        ("Created", format_time(artifact.created)),
        ("Updated", format_time(artifact.updated)),
        ("Versions", Text(f"{len(versions)} (newest first: "
                          f"{', '.join(v[:SHORT_ID] for v in versions[:10])})")),
        ("Data", Text(data_text(artifact))),
    ]))
