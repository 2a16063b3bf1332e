"""`tasks-core server`: the HTTP API (and webhooks) on uvicorn."""

from __future__ import annotations

import typer

from tasks_core.cli.output import console, expected_errors

__all__ = ["server"]


def server(
    host: str = typer.Option(
        "127.0.0.1", "--host",
        help="address to listen on; anything but loopback requires TASKS_CORE_API_KEY"),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535,
        help="HTTP port (default: the server_port setting, 4200)"),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="log level"),
) -> None:
    """Serve the dashboard at /, the HTTP API under /api (described at /docs and
    /openapi.json), webhooks under /hooks and Prometheus metrics at /metrics. With
    TASKS_CORE_API_KEY set, API clients send `Authorization: Bearer KEY` and the dashboard
    asks for the key once."""
    with expected_errors():
        from tasks_core.api.auth import check_binding
        from tasks_core.api.serve import serve
        from tasks_core.settings import get_settings

        settings = get_settings()
        check_binding(host, settings)  # before saying where it serves
        bound = port or settings.server_port
        shown = f"[{host}]" if ":" in host else host
        console.print(f"Dashboard and API on [bold]http://{shown}:{bound}[/bold] (API docs "
                      "at /docs); Ctrl+C stops it", highlight=False)
        serve(host, bound, settings, log_level=loglevel)
