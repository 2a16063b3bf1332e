"""Process commands: `worker`, `flower`, `down` (each imports what it starts, lazily)."""

from __future__ import annotations

import ipaddress
import os

import typer

from tasks_core.cli.output import console, expected_errors, fail

__all__ = ["check_flower_binding", "register"]

FLOWER_AUTH_ENV = "TASKS_CORE_FLOWER_BASIC_AUTH"


def worker(
    pool: list[str] = typer.Option(
        ["default"], "--pool", "-p", help="work pool(s) to serve; each is a Celery queue"),
    concurrency: int = typer.Option(
        0, "--concurrency", "-c", help="worker processes (0: one per CPU core)"),
    imports: list[str] = typer.Option(
        [], "--import", "-i", help="module(s) defining tasks, imported at start"),
    pool_impl: str = typer.Option(
        "prefork", "--pool-impl", help="Celery execution pool: prefork, threads or solo"),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="log level"),
    hostname: str | None = typer.Option(None, "--hostname", "-n", help="Celery node name"),
) -> None:
    """Run a Celery worker on the queues of the given work pools (prefork by default)."""
    from workers.main import run_worker

    run_worker(pool, concurrency=concurrency or None, imports=imports, pool=pool_impl,
               loglevel=loglevel.upper(), hostname=hostname)


def beat(
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="log level"),
) -> None:
    """Run beat: the sweeper that recovers crashed runs and re-sends lost messages."""
    from beat.main import run_beat

    run_beat(loglevel=loglevel.upper())


def is_loopback(address: str) -> bool:
    """Whether `address` only accepts local connections ('' and 0.0.0.0 mean everywhere)."""
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def check_flower_binding(address: str, basic_auth: str | None) -> list[str]:
    """The Flower credentials to use; ConfigurationError when the binding is unsafe.

    Flower listens beyond this machine only with credentials (`user:password`, several
    separated by commas).
    """
    from tasks_core.errors import ConfigurationError

    credentials = [item.strip() for item in (basic_auth or "").split(",") if item.strip()]
    for item in credentials:
        user, _, password = item.partition(":")
        if not user or not password:
            raise ConfigurationError(
                "--basic-auth (or TASKS_CORE_FLOWER_BASIC_AUTH) must be user:password, several "
                "separated by commas")
    if not credentials and not is_loopback(address):
        shown = address or "all interfaces"
        raise ConfigurationError(
            f"refusing to run Flower on {shown} without credentials: pass --basic-auth "
            f"user:password (or set {FLOWER_AUTH_ENV}), or bind to 127.0.0.1")
    return credentials


def flower(
    port: int = typer.Option(5555, "--port", min=1, max=65535, help="HTTP port"),
    address: str = typer.Option(
        "127.0.0.1", "--address",
        help="address to listen on; anything but loopback requires --basic-auth"),
    basic_auth: str | None = typer.Option(
        None, "--basic-auth", envvar=FLOWER_AUTH_ENV, show_envvar=True,
        help="user:password for HTTP basic auth (several separated by commas; FLOWER_BASIC_AUTH "
             "works too); prefer an environment variable: the process list shows arguments"),
) -> None:
    """Run Flower (the Celery monitor) on the tasks-core Celery app."""
    with expected_errors():
        # Flower's own FLOWER_BASIC_AUTH counts too (Flower would apply it anyway)
        basic_auth = basic_auth or os.environ.get("FLOWER_BASIC_AUTH")
        credentials = check_flower_binding(address, basic_auth)  # before anything starts
        from tasks_core.runtime import get_runtime
        from tasks_core.store.connection import safe_url

        runtime = get_runtime()
        runtime.client  # noqa: B018  # reach Redis now: a clear error beats Flower's retry loop
        app = runtime.app
        broker = safe_url(str(app.conf.broker_url))
    argv = ["flower", f"--port={port}", f"--address={address}"]
    if credentials:
        argv.append("--basic-auth=" + ",".join(credentials))
    host = f"[{address}]" if ":" in address else address
    console.print(f"Flower on [bold]http://{host}:{port}[/bold] (broker {broker}); "
                  "Ctrl+C stops it", highlight=False)
    try:
        code = app.start(argv)  # Flower is a `celery` sub-command plugin
    except OSError as exc:
        fail(f"cannot run Flower on {address}:{port}: {exc.strerror or exc}")
    if code:
        raise typer.Exit(code)


def down() -> None:
    """Stop the embedded Redis (it saves its data first); a configured Redis is left alone."""
    with expected_errors():
        from tasks_core.settings import get_settings
        from tasks_core.store.embedded import embedded_status, stop_embedded

        settings = get_settings()
        found = embedded_status(settings)
        stopped = stop_embedded(settings)
    if stopped and found is not None:
        console.print(f"Stopped the embedded Redis (pid {found.pid}, port {found.port}, "
                      f"data in {found.data_dir}).", highlight=False)
    elif stopped:
        console.print("Stopped the embedded Redis.")
    else:
        console.print("No embedded Redis was running.")
    if settings.redis_url:
        console.print("[dim]TASKS_CORE_REDIS_URL is set: tasks-core does not stop a Redis it "
                      "did not start.[/dim]")


def register(app: typer.Typer) -> None:
    """Add the process commands to the root app."""
    app.command("worker")(worker)
    app.command("flower")(flower)
    app.command("down")(down)
    app.command("beat")(beat)
