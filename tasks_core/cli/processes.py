"""Process commands: `worker`, `flower`, `down` (each imports what it starts, lazily)."""

from __future__ import annotations

import typer

__all__ = ["register"]


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


def register(app: typer.Typer) -> None:
    """Add the process commands to the root app."""
    app.command("worker")(worker)
    app.command("beat")(beat)
