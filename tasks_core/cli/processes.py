"""Process commands: `worker`, `beat`, `flower`, `up`, `down` (each imports what it starts,
lazily).

A worker's main process imports this module, and its prefork children inherit what it
holds (issue 16, footprint): rich and the CLI's tables (`tasks_core.cli.output`) are
imported by the commands that print with them, not here; the error path is
`tasks_core.cli.failing`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from tasks_core.cli.failing import expected_errors, fail
from tasks_core.supervisor import (
    Child,
    ChildSpec,
    cli_command,
    describe_exit,
    run_stack,
    stop_on_signals,
)

if TYPE_CHECKING:
    from tasks_core.settings import Settings
    from tasks_core.store.clients import RedisUser

__all__ = ["check_flower_binding", "describe_users", "register", "stack_specs"]

FLOWER_AUTH_ENV = "TASKS_CORE_FLOWER_BASIC_AUTH"


# options the worker and `up` share
_POOLS = typer.Option(
    [], "--pool", "-p", show_default=False,
    help="work pool(s) the worker serves, each a Celery queue; repeat for several (default: "
         "the default pool, TASKS_CORE_DEFAULT_POOL, or task_default_queue set on the Celery "
         "app's conf by an --import'ed module)")
_CONCURRENCY = typer.Option(
    0, "--concurrency", "-c", min=0, help="worker processes (0: one per CPU core)")
_IMPORTS = typer.Option(
    [], "--import", "-i", help="module(s) defining tasks, imported by the worker at start")


def worker(
    ctx: typer.Context,
    pool: list[str] = _POOLS,
    concurrency: int = _CONCURRENCY,
    imports: list[str] = _IMPORTS,
    queues: list[str] = typer.Option(
        [], "--queues", "-Q", show_default=False,
        help="extra Celery queues to consume on top of the pools (e.g. a task's `queue=`); "
             "comma-separated or repeated"),
    pool_impl: str = typer.Option(
        "prefork", "--pool-impl", help="Celery execution pool: prefork, threads or solo"),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="log level"),
    hostname: str | None = typer.Option(
        None, "--hostname", "-n",
        help="Celery node name, NAME@HOST (%h: this host); refused while a live worker has it "
             "(default: the first free of POOLS@HOST, POOLS-2@HOST, ...)"),
    max_tasks_per_child: int | None = typer.Option(
        None, "--max-tasks-per-child", min=1,
        help="replace a child process after it ran this many tasks (prefork)"),
    max_memory_per_child: int | None = typer.Option(
        None, "--max-memory-per-child", min=1, metavar="KIB",
        help="replace a child process after a task leaves it above this resident memory, "
             "in KiB as Celery's (prefork)"),
    autoscale: str | None = typer.Option(
        None, "--autoscale", metavar="MAX,MIN",
        help="grow to MAX and shrink to MIN child processes with the load (prefork; "
             "overrides --concurrency)"),
    prefetch_multiplier: int | None = typer.Option(
        None, "--prefetch-multiplier", min=1,
        help="messages each child reserves ahead (Celery's default 4; 1 for long runs)"),
) -> None:
    """Run a Celery worker on the queues of the given work pools (prefork by default).


    `tasks-core worker ls` lists the running workers. Messages it cannot run are set aside
    (see `tasks-core deadletter ls`), never dropped. It exits non-zero if it stops on an
    error. Runs go to queues by `task_routes` (start a worker on each routed queue); a
    task's `rate_limit` holds across all workers; `send_task("name")` reaches a task of
    an `--import`ed module.
    """
    if ctx.invoked_subcommand is not None:
        return
    from tasks_core.cli.workers import check_worker_options, parse_autoscale, split_queues

    with expected_errors():
        from tasks_core.settings import get_settings

        given = [name for name, value in (("--autoscale", autoscale),
                                          ("--max-tasks-per-child", max_tasks_per_child),
                                          ("--max-memory-per-child", max_memory_per_child))
                 if value is not None]
        pools = check_worker_options(pool or [get_settings().default_pool],
                                     pool_impl=pool_impl, prefork_only=given)
        extra = split_queues(queues)
        scale = parse_autoscale(autoscale) if autoscale is not None else None
        check_own_package("workers")
        from workers.main import CeleryOptions, run_worker

        options = CeleryOptions(concurrency=concurrency or None,
                                max_tasks_per_child=max_tasks_per_child,
                                max_memory_per_child=max_memory_per_child, autoscale=scale,
                                prefetch_multiplier=prefetch_multiplier)
        code = run_worker(pools, imports=imports, pool=pool_impl, loglevel=loglevel.upper(),
                          hostname=hostname, queues=extra, options=options,
                          default_queue_from_conf=not pool)
    if code:
        raise typer.Exit(code)  # a worker that stopped on an error exits non-zero


def beat(
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="log level"),
    imports: list[str] = typer.Option(
        [], "--import", "-i",
        help="module(s) imported at start, e.g. the one setting a Celery app's "
             "conf.beat_schedule"),
) -> None:
    """Run beat: schedules to runs, deferred runs to queues, the sweeper that recovers
    crashed runs and re-sends lost messages, and the trigger engine that runs automations
    on events (one leader among several beats; the others stand by).

    Celery-style periodic tasks: when beat starts, the `beat_schedule` entries
    of the settings and of the Celery app's conf (set by an --import module)
    become `beat-schedule/<entry>` deployments; entries no longer given are
    removed.
    """
    check_own_package("beat")
    import sys

    from beat.main import run_beat
    from tasks_core.user_modules import import_user_modules

    with expected_errors():
        if "" not in sys.path:
            sys.path.insert(0, "")
        import_user_modules(imports)
        run_beat(loglevel=loglevel.upper())


def check_own_package(name: str) -> None:
    """Exit with one line when the `beat` or `workers` package that Python would import is
    not tasks-core's: they are top-level packages of the distribution (the layout of
    ARCHITECTURE.md), so a project of the user's with its own `beat/` or `workers/` folder,
    first on ``sys.path`` (its root as the working folder, or on PYTHONPATH), shadows them."""
    import importlib.util
    from pathlib import Path

    ours = Path(__file__).resolve().parents[2] / name  # the distribution's root
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    found = (Path(spec.origin).resolve().parent if spec is not None and spec.origin
             else Path(next(iter(spec.submodule_search_locations or []), "?"))
             if spec is not None else None)
    if found != ours:
        fail(f"the '{name}' package Python finds first ({found or 'none'}) is not tasks-core's "
             f"({ours}): a folder of your project named '{name}' shadows it; rename yours, or "
             "start tasks-core from a folder where it is not on sys.path")


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
        from tasks_core.process_runtime import get_runtime
        from tasks_core.store.connection import safe_url

        runtime = get_runtime()
        runtime.server.ping()  # reach Redis now: a clear error beats Flower's retry loop
        app = runtime.app
        broker = safe_url(str(app.conf.broker_url))
    from tasks_core.cli.output import console

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


UP_STOP_SECONDS = 20.0
"""How long `up` lets its children stop after SIGTERM (a worker finishes running tasks)."""


def stack_specs(
    pools: Sequence[str], *, concurrency: int, imports: Sequence[str], loglevel: str,
    flower_port: int | None, server_port: int | None = None,
) -> list[ChildSpec]:
    """The processes of `tasks-core up`, in start order (the HTTP API when `server_port`
    is set, Flower when `flower_port` is)."""
    worker_args = [arg for pool in pools for arg in ("--pool", pool)]
    import_args = [arg for module in imports for arg in ("--import", module)]
    worker_args += import_args
    specs = [
        ChildSpec("worker", cli_command("worker", *worker_args, "--concurrency",
                                        str(concurrency), "--loglevel", loglevel)),
        # beat imports them too: a module may set a Celery app's conf.beat_schedule
        ChildSpec("beat", cli_command("beat", "--loglevel", loglevel, *import_args)),
    ]
    if server_port is not None:
        specs.append(ChildSpec("server", cli_command("server", "--port", str(server_port),
                                                     "--loglevel", loglevel),
                               url=f"http://127.0.0.1:{server_port}/"))
    if flower_port is not None:
        specs.append(ChildSpec("flower", cli_command("flower", "--port", str(flower_port)),
                               url=f"http://127.0.0.1:{flower_port}"))
    return specs


def up(
    pool: list[str] = _POOLS,
    concurrency: int = _CONCURRENCY,
    imports: list[str] = _IMPORTS,
    flower: bool = typer.Option(
        True, "--flower/--no-flower", help="also run Flower (the Celery monitor) on 127.0.0.1"),
    flower_port: int = typer.Option(
        5555, "--flower-port", min=1, max=65535, help="Flower's HTTP port"),
    server: bool = typer.Option(
        True, "--server/--no-server", help="also run the HTTP API and webhooks on 127.0.0.1"),
    server_port: int | None = typer.Option(
        None, "--server-port", min=1, max=65535,
        help="the HTTP API's port (default: the server_port setting, 4200)"),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="log level of worker and beat"),
) -> None:
    """Run the local stack in one command: a worker, beat, the HTTP API and Flower, until
    Ctrl-C.

    Uses the embedded Redis (started if need be) unless TASKS_CORE_REDIS_URL is set. If a
    process exits on its own, the others are stopped and `up` exits non-zero.
    """
    with expected_errors():
        from tasks_core.settings import get_settings

        settings = get_settings()
        redis_line = _reach_redis(settings)  # before anything starts: one clear error
        pools = pool or [settings.default_pool]
        api_port = (server_port or settings.server_port) if server else None
        if flower:
            _check_port_free(flower_port, "Flower's", "--flower-port PORT, or --no-flower")
        if api_port is not None:
            _check_port_free(api_port, "The HTTP API's",
                             "--server-port PORT, or --no-server")
    from tasks_core.cli.output import console, err_console

    specs = stack_specs(pools, concurrency=concurrency, imports=imports,
                        loglevel=loglevel.upper(), flower_port=flower_port if flower else None,
                        server_port=api_port)
    console.print(redis_line, highlight=False, soft_wrap=True)
    console.print(f"Starting {', '.join(spec.name for spec in specs)}; Ctrl+C stops them all.",
                  highlight=False, soft_wrap=True)
    stop, force = threading.Event(), threading.Event()
    with stop_on_signals(stop, force):
        children, died = run_stack(specs, stop=stop, force=force, grace_seconds=UP_STOP_SECONDS,
                                   on_start=_print_started, on_stopping=_print_stopping)
    killed = [child.name for child in children if child.killed]
    if killed:
        err_console.print(f"[yellow]killed after {UP_STOP_SECONDS:.0f}s:[/yellow] "
                          + ", ".join(killed), highlight=False)
    if died is not None:
        fail(f"{died.name} (pid {died.pid}) exited unexpectedly with "
             f"{describe_exit(died.proc.returncode)}; stopped the other processes")
    console.print("Stopped.")


def _reach_redis(settings: Settings) -> str:
    """Start or reuse the embedded Redis (unless a URL is set), PING it; its rich line."""
    from rich.markup import escape

    from tasks_core.store.connection import connect, redis_url, safe_url

    url = redis_url(settings)  # the embedded one is started here if need be
    # PING on the pooled connection, which stays open while `up` runs: `tasks-core down`
    # sees it (a named client) and refuses to stop the embedded Redis under the stack
    connect(settings).ping()
    line = f"[bold]Redis[/bold]   {escape(safe_url(url))} "
    line += ("(TASKS_CORE_REDIS_URL)" if settings.redis_url
             else "(embedded; `tasks-core down` stops it)")
    if settings.broker_url:
        line += f"\n[bold]Broker[/bold]  {escape(safe_url(settings.broker_url))}"
    return line


def _check_port_free(port: int, whose: str = "Flower's",
                     remedy: str = "--flower-port PORT, or --no-flower") -> None:
    """ConfigurationError when a port the stack serves on is taken (before any process
    starts); the message names `whose` port it is and the options that avoid it."""
    from tasks_core.errors import ConfigurationError

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Flower's server does
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigurationError(
                f"{whose} port {port} on 127.0.0.1 is in use ({exc.strerror}): pass "
                f"{remedy}") from None


def _print_started(child: Child) -> None:
    from rich.markup import escape

    from tasks_core.cli.output import console

    where = f"  [bold]{escape(child.spec.url)}[/bold]" if child.spec.url else ""
    console.print(f"[bold]{child.name:<7}[/bold] pid {child.pid}{where}", highlight=False,
                  soft_wrap=True)


def _print_stopping(children: Sequence[Child]) -> None:
    from tasks_core.cli.output import console

    running = [child.name for child in children if not child.has_exited()]
    if running:
        console.print(f"Stopping {', '.join(running)}...", highlight=False)


def down(
    force: bool = typer.Option(
        False, "--force",
        help="stop it even while processes use it (they reconnect when it starts again: it "
             "keeps its port)"),
) -> None:
    """Stop the embedded Redis (it saves its data first); a configured Redis is left alone.

    Refused while anything uses it (a stack started by `tasks-core up`, a worker, beat,
    Flower, another client), naming them; --force stops it anyway.
    """
    with expected_errors():
        from tasks_core.errors import ConfigurationError
        from tasks_core.settings import get_settings
        from tasks_core.store.clients import redis_users
        from tasks_core.store.embedded import (
            EmbeddedUnresponsive,
            embedded_status,
            stop_embedded,
        )

        settings = get_settings()
        try:
            found = embedded_status(settings)
        except EmbeddedUnresponsive:
            if not force:
                raise  # its message says: `tasks-core down --force` ends it
            found = None  # hung: nobody can be using it; stop_embedded ends it with signals
        users = redis_users(found.url) if found is not None else []
        if users and not force:
            raise ConfigurationError(
                f"the embedded Redis (port {found.port if found else '?'}) is in use by "
                f"{describe_users(users)}: stop them first (Ctrl+C where `tasks-core up` "
                "runs), or pass --force to stop it anyway")
        stopped = stop_embedded(settings)
    from rich.markup import escape

    from tasks_core.cli.output import console, err_console

    if stopped and found is not None:
        console.print(f"Stopped the embedded Redis (pid {found.pid}, port {found.port}, "
                      f"data in {found.data_dir}).", highlight=False, soft_wrap=True)
        if users:
            err_console.print(f"[yellow]warning:[/yellow] it was in use by "
                              f"{escape(describe_users(users))}; they reconnect when it "
                              f"starts again on port {found.port}", highlight=False,
                              soft_wrap=True)
    elif stopped:
        console.print("Stopped the embedded Redis.")
    else:
        console.print("No embedded Redis was running.")
    if settings.redis_url:
        console.print("[dim]TASKS_CORE_REDIS_URL is set: tasks-core does not stop a Redis it "
                      "did not start.[/dim]")


def describe_users(users: Sequence[RedisUser]) -> str:
    """``worker (pid 1), beat (pid 2) and 3 other connections``: tasks-core processes by
    name, other connections counted."""
    named = [user.describe() for user in users if user.role]
    others = len(users) - len(named)
    if others:
        named.append(f"{others} other connection{'s' if others > 1 else ''}" if named
                     else f"{others} connection{'s' if others > 1 else ''} "
                          f"({', '.join(user.host for user in users[:3])})")
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def register(app: typer.Typer) -> None:
    """Add the process commands to the root app."""
    from tasks_core.cli import workers

    workers.app.callback(invoke_without_command=True)(worker)
    app.add_typer(workers.app, name="worker")
    app.command("flower")(flower)
    app.command("down")(down)
    app.command("beat")(beat)
    app.command("up")(up)
