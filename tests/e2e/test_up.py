"""`tasks-core up` end to end: a real stack (worker and beat) against a real redis-server.

`up` runs as a subprocess; its output (and its children's, which share its stdout) goes to
a file, so no pipe can fill up and block anyone. Process trees are read from /proc.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks_core.proc import pid_alive
from tasks_core.settings import Settings
from tasks_core.states import StateName
from tasks_core.store.embedded import stop_embedded
from tasks_core.supervisor import ChildSpec, describe_exit, run_stack
from tests.helpers import ROOT, free_port, wait_until

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

TASKS = "tests.integration.sample_tasks"


class Up:
    """A `tasks-core up` subprocess, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        if "--no-server" not in args and "--server-port" not in args:
            self.server_port = free_port()  # never the default 4200: tests run side by side
            args = (*args, "--server-port", str(self.server_port))
        self.log_path = log
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tasks_core.cli.main", "up", *args], env=env, cwd=ROOT,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pid(self, name: str, timeout: float = 20) -> int:
        """The pid `up` printed for its child `name`."""
        def printed() -> int | None:
            assert self.proc.poll() is None, f"up exited early:\n{self.output()}"
            found = re.search(rf"^{name}\s+pid (\d+)", self.output(), re.MULTILINE)
            return int(found.group(1)) if found else None
        return int(wait_until(printed, timeout, 0.05, f"up to start {name}"))

    def wait(self, timeout: float = 45) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        """Teardown: nothing of this test may outlive it."""
        for pid in [self.proc.pid, *descendants(self.proc.pid)]:
            if pid_alive(pid):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, grandchildren, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.fixture
def start_up(tmp_path: Path) -> Iterator[Any]:
    started: list[Up] = []

    def start(env: dict[str, str], *args: str) -> Up:
        started.append(Up(env, tmp_path / f"up-{len(started)}.log", *args))
        return started[-1]

    yield start
    for up in started:
        if up.proc.poll() is None or descendants(up.proc.pid):
            up.kill()


def wait_for_worker(up: Up, tc_env: dict[str, Any]) -> None:
    """Until a worker pool process of this test heartbeats."""
    def heartbeat() -> bool:
        assert up.proc.poll() is None, f"up exited early:\n{up.output()}"
        return bool(list(tc_env["client"].scan_iter(f"{tc_env['prefix']}:proc:*")))
    wait_until(heartbeat, 60, 0.1, "a worker heartbeat")


def test_up_runs_tasks_and_stops_everything_on_sigterm(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_up: Any
) -> None:
    from tests.integration import sample_tasks

    up = start_up(cli_env, "--no-flower", "-c", "1", "-i", TASKS)
    worker, beat = up.child_pid("worker"), up.child_pid("beat")
    wait_for_worker(up, tc_env)

    now = sample_tasks.add.delay(2, 3)  # on the default pool: the one `up` serves
    later = sample_tasks.add.apply_async((10, 20), countdown=1)  # beat sends it when due
    assert now.result(timeout=30) == 5 and later.result(timeout=30) == 30
    assert now.state == StateName.COMPLETED and later.state == StateName.COMPLETED

    tree = descendants(up.proc.pid)
    assert {worker, beat} <= tree and len(tree) >= 3  # and the worker's pool process
    up.proc.send_signal(signal.SIGTERM)
    code = up.wait()
    out = up.output()
    assert code == 0, out
    assert not [pid for pid in tree if pid_alive(pid)], out
    assert "Stopping worker, beat, server..." in out and "Stopped." in out
    assert f"Redis   {tc_env['url']} (TASKS_CORE_REDIS_URL)" in out
    assert not re.search(r"^flower\s+pid", out, re.MULTILINE)


def test_up_stops_the_stack_when_the_worker_dies(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_up: Any
) -> None:
    up = start_up(cli_env, "--no-flower", "-c", "1")
    worker, beat = up.child_pid("worker"), up.child_pid("beat")
    wait_for_worker(up, tc_env)
    tree = descendants(up.proc.pid)

    os.kill(worker, signal.SIGKILL)
    code = up.wait()
    out = up.output()
    assert code == 1, out
    assert (f"worker (pid {worker}) exited unexpectedly with code -9 (killed by SIGKILL); "
            "stopped the other processes") in out
    assert "Stopping beat, server..." in out
    assert not pid_alive(beat)
    assert not [pid for pid in tree if pid_alive(pid)], out  # the worker's pool process too


def test_up_with_flower_serves_it_and_stops_it(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_up: Any
) -> None:
    import urllib.request

    port = free_port()
    up = start_up(cli_env, "-c", "1", "--flower-port", str(port))
    up.child_pid("flower")
    assert re.search(rf"^flower\s+pid \d+\s+http://127\.0\.0\.1:{port}$", up.output(),
                     re.MULTILINE)

    def serving() -> bool:
        assert up.proc.poll() is None, f"up exited early:\n{up.output()}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                return int(response.status) == 200
        except OSError:
            return False

    wait_until(serving, 30, 0.2, "Flower to answer")
    up.child_pid("server")
    api = f"http://127.0.0.1:{up.server_port}"
    assert re.search(rf"^server\s+pid \d+\s+{api}/$", up.output(), re.MULTILINE)

    def api_health() -> dict[str, Any] | None:
        assert up.proc.poll() is None, f"up exited early:\n{up.output()}"
        try:
            with urllib.request.urlopen(f"{api}/api/health", timeout=2) as response:
                return dict(json.loads(response.read()))
        except OSError:
            return None

    assert wait_until(api_health, 30, 0.2, "the API to answer") == {"status": "ok",
                                                                      "redis": True}
    tree = descendants(up.proc.pid)
    up.proc.send_signal(signal.SIGTERM)
    assert up.wait() == 0, up.output()
    assert "Stopping worker, beat, server, flower..." in up.output()
    assert not [pid for pid in tree if pid_alive(pid)]


def test_up_starts_the_embedded_redis_and_refuses_a_busy_flower_port(
    cli_env: dict[str, str], tc_env: dict[str, Any], tmp_path: Path, start_up: Any
) -> None:
    import socket

    env = {k: v for k, v in cli_env.items() if k != "TASKS_CORE_REDIS_URL"}
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            refused = start_up(env, "--flower-port", str(busy.getsockname()[1]))
            code = refused.wait()
        out = refused.output()
        assert code == 1, out
        assert "is in use" in out and "--no-flower" in out and "worker" not in out

        up = start_up(env, "--no-flower", "-c", "1")
        up.child_pid("beat")
        assert re.search(r"Redis   redis://127\.0\.0\.1:\d+/0 \(embedded", up.output())
        up.proc.send_signal(signal.SIGINT)  # what Ctrl+C sends
        assert up.wait() == 0, up.output()
    finally:
        stop_embedded(Settings(data_dir=tmp_path / "data"))


# -- the supervisor alone (tasks_core/supervisor.py), on plain Python children --------------


def python_child(name: str, code: str) -> ChildSpec:
    return ChildSpec(name, (sys.executable, "-c", code))


def stubborn(ready: Path) -> ChildSpec:
    """A child that ignores SIGTERM, and touches `ready` once it does."""
    return python_child("stubborn", "import pathlib, signal, time; "
                        "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)")


def set_when(path: Path, *events: threading.Event) -> None:
    """In a thread: once `path` exists, set `events`, 0.2 s apart."""
    def run() -> None:
        wait_until(path.exists, 20, message=str(path))
        for event in events:
            event.set()
            time.sleep(0.2)
    threading.Thread(target=run, daemon=True).start()


def test_the_first_child_to_exit_ends_the_stack() -> None:
    stop = threading.Event()
    children, died = run_stack(
        [python_child("sleeper", "import time; time.sleep(60)"),
         python_child("quitter", "import time; time.sleep(0.3); raise SystemExit(3)")],
        stop=stop, grace_seconds=5)
    assert died is not None and died.name == "quitter" and died.proc.returncode == 3
    assert describe_exit(3) == "code 3"
    assert describe_exit(-9) == "code -9 (killed by SIGKILL)"
    sleeper = children[0]
    assert sleeper.proc.returncode == -signal.SIGTERM and not sleeper.killed


def test_a_child_ignoring_sigterm_is_killed_after_the_bound_or_at_once_when_forced(
    tmp_path: Path,
) -> None:
    stop, force = threading.Event(), threading.Event()
    set_when(tmp_path / "one", stop)
    children, died = run_stack([stubborn(tmp_path / "one")], stop=stop, grace_seconds=1)
    stopped_at = time.monotonic()
    assert died is None and children[0].killed
    assert children[0].proc.returncode == -signal.SIGKILL

    stop.clear()
    set_when(tmp_path / "two", stop, force)
    children, _ = run_stack([stubborn(tmp_path / "two")], stop=stop, force=force,
                            grace_seconds=60)
    assert children[0].killed and time.monotonic() - stopped_at < 20


# -- `tasks-core down` while a stack uses the embedded Redis --------------------------------


def test_down_refuses_while_up_uses_the_embedded_redis_and_force_stops_it(
    tmp_path: Path, start_up: Any
) -> None:
    from tasks_core.store.clients import redis_users
    from tasks_core.store.embedded import embedded_status
    from tests.helpers import refused

    data_dir = tmp_path / "data"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TASKS_CORE_")},
           "PYTHONPATH": str(ROOT), "TASKS_CORE_DATA_DIR": str(data_dir), "COLUMNS": "80",
           "NO_COLOR": "1", "PYTHONUNBUFFERED": "1", "TASKS_CORE_HEARTBEAT_INTERVAL_SECONDS": "0.5"}
    settings = Settings(data_dir=data_dir)
    try:
        up = start_up(env, "--no-flower", "-c", "1")
        worker, beat = up.child_pid("worker"), up.child_pid("beat")
        server = embedded_status(settings)
        assert server is not None

        def roles() -> set[tuple[str, int | None]]:
            assert up.proc.poll() is None, up.output()
            return {(user.role, user.pid) for user in redis_users(server.url) if user.role}
        expected = {("up", up.proc.pid), ("worker", worker), ("beat", beat)}
        wait_until(lambda: expected <= roles(), 60, 0.2, "up, worker and beat on Redis")

        down = subprocess.run([sys.executable, "-m", "tasks_core.cli.main", "down"], env=env,
                              capture_output=True, text=True, timeout=60)
        refused(down, f"the embedded Redis (port {server.port}) is in use by ",
                f"up (pid {up.proc.pid})", f"worker (pid {worker})", f"beat (pid {beat})",
                "pass --force")
        assert embedded_status(settings) == server  # still running

        forced = subprocess.run([sys.executable, "-m", "tasks_core.cli.main", "down", "--force"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert forced.returncode == 0, forced.stderr
        assert f"Stopped the embedded Redis (pid {server.pid}, port {server.port}" in forced.stdout
        assert f"worker (pid {worker})" in forced.stderr and "reconnect" in forced.stderr
        assert embedded_status(settings) is None and not pid_alive(server.pid)

        # the next command starts it again where the stack looks for it: same port, and
        # the stack's worker and beat come back to it
        again = subprocess.run([sys.executable, "-m", "tasks_core.cli.main", "work-pool",
                                "create", "after-down"], env=env, capture_output=True,
                               text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        restarted = embedded_status(settings)
        assert restarted is not None and restarted.port == server.port
        server = restarted
        wait_until(lambda: {("worker", worker), ("beat", beat)} <= roles(), 60, 0.2,
                   "worker and beat back on the restarted Redis")
        up.proc.send_signal(signal.SIGTERM)
        assert up.wait() == 0, up.output()
    finally:
        stop_embedded(settings)
