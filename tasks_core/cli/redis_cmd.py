"""`tasks-core redis ...`: which Redis is in use, and whether it is set up for production."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from tasks_core.cli.output import console, expected_errors, warn
from tasks_core.settings import Settings, get_settings
from tasks_core.store.connection import safe_url
from tasks_core.store.server import read_server_info

__all__ = ["app"]

app = typer.Typer(help="The Redis in use (configured or embedded).", no_args_is_help=True)

_TIMEOUT_SECONDS = 3.0


@app.command("status")
def status() -> None:
    """Say which Redis tasks-core uses and how it is configured (never starts one)."""
    with expected_errors():
        settings = get_settings()
        grid = _grid()
        url = _describe_source(settings, grid)
        if settings.broker_url:
            grid.add_row("Broker", Text(safe_url(settings.broker_url)))
        grid.add_row("Key prefix", Text(settings.key_prefix))
        info: dict[str, Any] | None = None
        try:
            info = read_server_info(url, timeout=_TIMEOUT_SECONDS) if url else None
        finally:  # what is known so far is shown even when the server cannot be reached
            if url:
                _add_server_rows(grid, info)
            console.print(grid)
    if info is not None:
        _warnings(info)


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _describe_source(settings: Settings, grid: Table) -> str | None:
    """Add the source rows; the URL to query, or None for an embedded Redis not running."""
    if settings.redis_url:
        grid.add_row("Redis", Text.assemble(("configured ", "green"), safe_url(settings.redis_url)))
        return settings.redis_url
    from tasks_core.store.embedded import embedded_status

    found = embedded_status(settings)  # reads the state file and probes; never starts one
    if found is None:
        grid.add_row("Redis", Text("embedded, not running", style="yellow"))
        grid.add_row("Data dir", Text(str(settings.data_dir.expanduser())))
        grid.add_row("", Text("it starts on first use (e.g. `tasks-core worker`); set "
                              "TASKS_CORE_REDIS_URL to use a Redis you run", style="dim"))
        return None
    grid.add_row("Redis", Text.assemble(("embedded ", "green"), found.url))
    grid.add_row("PID", str(found.pid))
    grid.add_row("Port", str(found.port))
    grid.add_row("Binary", Text(found.binary))
    grid.add_row("Data dir", Text(str(found.data_dir)))
    return found.url


def _policy(info: dict[str, Any]) -> str:
    return str(info.get("maxmemory_policy", "unknown"))


def _appendonly(info: dict[str, Any]) -> str:
    aof = info.get("aof_enabled")
    return "unknown" if aof is None else ("yes" if int(aof) else "no")


def _add_server_rows(grid: Table, info: dict[str, Any] | None) -> None:
    if info is None:
        grid.add_row("Server", Text("unreachable", style="red"))
        return
    version = str(info.get("redis_version", "unknown"))
    if "valkey_version" in info:
        version += f" (valkey {info['valkey_version']})"
    policy, appendonly = _policy(info), _appendonly(info)
    grid.add_row("Server version", f"{version}, {info.get('redis_mode', 'standalone')}")
    grid.add_row("maxmemory-policy",
                 Text(policy, style="green" if policy == "noeviction" else "yellow"))
    grid.add_row("appendonly", Text(appendonly, style="green" if appendonly == "yes" else "yellow"))


def _warnings(info: dict[str, Any]) -> None:
    policy = _policy(info)
    if policy != "noeviction":
        warn(f"maxmemory-policy is {policy}: an evicting Redis silently deletes queued work and "
             "run records; set maxmemory-policy noeviction")
    if _appendonly(info) == "no":
        console.print("[dim]note: appendonly is off, so a Redis restart loses recent runs; "
                      "production Redis should run with appendonly yes[/dim]")
