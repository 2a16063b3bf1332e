"""`tasks-core variable ...`: ls, get, set, delete (named JSON values, as Prefect's
`prefect variable`).

Records go through `tasks_core.variables` (the same checks as `Variable.set` and
``PUT /api/variables/{name}``). A VALUE given to `set` is read as JSON when it parses
(``42``, ``'{"a": 1}'``, ``true``) and as a string otherwise, as Prefect's CLI does. Every
error is one red line on stderr and exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from tasks_core.cli.jsonout import print_json, print_json_lines
from tasks_core.cli.output import EMPTY, console, expected_errors, fail, format_time
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.variables import Variable

__all__ = ["VARIABLE_COLUMNS", "app", "parse_value", "variables_table"]

app = typer.Typer(help="List, read, set and delete variables (named JSON values shared by "
                       "every process on the Redis).", no_args_is_help=True)

VARIABLE_COLUMNS = (
    Column("Name", style="bold", shrink=True), Column("Value", flexible=True, min_width=16),
    Column("Tags", drop=2), Column("Updated", drop=1))
"""Columns of `variables_table`: name and value at any width (the value folds), then the
update time and tags as room allows."""


def parse_value(text: str) -> Any:
    """A CLI VALUE: its JSON when it parses, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def variables_table(variables: Sequence[Variable], width: int | None = None) -> Table:
    """Variables as a table that fits `width` cells (default: the console's)."""
    rows: list[list[Cell]] = []
    for v in variables:  # user-supplied values go in as Text: never rich markup
        value = _value_text(v.value)
        rows.append([Text(v.name), Text(value if len(value) <= 200 else value[:199] + "…"),
                     Text(",".join(v.tags) or EMPTY), format_time(v.updated)])
    return fit_table(VARIABLE_COLUMNS, rows, width or console.width, title="Variables")


@app.command("ls")
def ls(as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one variable "
                                    "per line (name, value, tags, created, updated)")) -> None:
    """List every variable by name: name, value, then update time and tags as room allows."""
    from tasks_core.variables import list_variables

    with expected_errors():
        variables = list_variables()
    if as_json:
        print_json_lines(v.model_dump(mode="json") for v in variables)
        return
    if not variables:
        console.print("No variables. Set one with `tasks-core variable set NAME VALUE`.",
                      highlight=False)
        return
    console.print(variables_table(variables))


@app.command("get")
def get(name: str = typer.Argument(..., help="the variable's name"),
        as_json: bool = typer.Option(False, "--json", help="print the whole record as JSON "
                                     "(name, value, tags, created, updated)")) -> None:
    """Print a variable's value (a string as is, any other value as JSON)."""
    from tasks_core.variables import VariableNotFound, read_variable

    with expected_errors():
        found = read_variable(name)
        if found is None:
            raise VariableNotFound(f"variable {name!r} not found (see `tasks-core variable "
                                   "ls`)")
    if as_json:
        print_json(found.model_dump(mode="json"))
        return
    print(_value_text(found.value), flush=True)


@app.command("set")
def set_variable(
    name: str = typer.Argument(..., help="lowercase letters, digits, '_' or '-' (at most "
                               "255)"),
    value: str = typer.Argument(..., help="JSON (42, true, '{\"a\": 1}') or, when it does "
                                "not parse, a string; at most 5000 characters of JSON"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing value "
                                   "(without it, an existing name is an error)"),
    tags: list[str] = typer.Option([], "--tag", help="a tag (repeat for more)"),
    as_json: bool = typer.Option(False, "--json", help="print the stored record as JSON"),
) -> None:
    """Set a variable; an existing one only with --overwrite."""
    with expected_errors():
        stored: Variable = Variable.set(name, parse_value(value), tags=tags,
                                        overwrite=overwrite, _sync=True)
    if as_json:
        print_json(stored.model_dump(mode="json"))
        return
    console.print(f"Set variable {stored.name!r}.", highlight=False, soft_wrap=True)


@app.command("delete")
def delete(name: str = typer.Argument(..., help="the variable's name")) -> None:
    """Delete a variable (`Variable.unset`); an unknown name is an error."""
    with expected_errors():
        deleted = Variable.unset(name, _sync=True)
    if not deleted:
        fail(f"variable {name!r} not found (see `tasks-core variable ls`)")
    console.print(f"Deleted variable {name!r}.", highlight=False, soft_wrap=True)
