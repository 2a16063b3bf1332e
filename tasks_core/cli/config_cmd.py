"""`tasks-core config view`: every setting in force and where its value came from."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from tasks_core.cli.output import console
from tasks_core.settings import Settings, get_settings
from tasks_core.settings_sources import config_file, read_config_file, setting_sources
from tasks_core.store.connection import safe_url

__all__ = ["app", "settings_in_force"]

app = typer.Typer(help="The settings in force (TASKS_CORE_* environment, settings file, "
                       "defaults).", no_args_is_help=True)

_URLS = ("redis_url", "broker_url")


def settings_in_force(settings: Settings) -> dict[str, dict[str, Any]]:
    """``{setting: {"value": JSON value, "source": where from}}`` in declaration order.

    The source is the environment variable's name, the settings file's path, or
    ``default``; passwords in URLs are masked.

    Raises:
        ConfigurationError: the settings file named by TASKS_CORE_CONFIG is missing or bad.
    """
    fields = list(Settings.model_fields)
    path = config_file()
    data = read_config_file(path, fields) if path is not None else {}
    sources = setting_sources(fields, path.resolve() if path else None, data)
    values = settings.describe()
    for name in _URLS:
        if values.get(name):
            values[name] = safe_url(str(values[name]))
    return {name: {"value": values[name], "source": sources[name]} for name in fields}


@app.command("view")
def view(
    as_json: bool = typer.Option(
        False, "--json",
        help='one JSON object: {"SETTING": {"value": ..., "source": ...}, ...}'),
) -> None:
    """Print every setting in force and where it came from: the TASKS_CORE_* variable, the
    settings file (TASKS_CORE_CONFIG, else ./tasks-core.toml), or the default. Passwords
    in URLs are masked."""
    rows = settings_in_force(get_settings())
    if as_json:
        typer.echo(json.dumps(rows))
        return
    path = config_file()
    console.print(f"Settings file: {path.resolve() if path else 'none'}", highlight=False,
                  soft_wrap=True)
    width = max(len(name) for name in rows)
    for name, row in rows.items():  # one line each, never wrapped: `| grep NAME` finds it all
        source = _short(row["source"])
        line = Text(f"{name:<{width}} = ", style="bold")
        line.append(_shown(row["value"]))
        line.append(f"  # {source}", style="dim" if source == "default" else "")
        console.print(line, soft_wrap=True, highlight=False)


def _shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _short(source: str) -> str:
    """A settings file under the current folder by its relative path (the full one heads
    the table), so the table fits 80 columns."""
    if source.startswith("/"):
        with contextlib.suppress(ValueError):
            return str(Path(source).relative_to(Path.cwd().resolve()))
    return source
