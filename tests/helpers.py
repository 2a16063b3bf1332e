"""Test helpers: free ports, a real redis-server, worker subprocesses, wait_until."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02,
               message: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class RedisServer:
    """A throwaway redis-server on a free port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found: run `make test` (it installs it)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tc-redis-")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        client = redis.Redis(port=self.port)
        wait_until(lambda: _ping(client), 10, message="redis-server to answer")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def _ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


class Worker:
    """A real `tasks-core worker` subprocess."""

    def __init__(self, env: dict[str, str], pool: str, *, concurrency: int = 2,
                 imports: tuple[str, ...] = ("tests.integration.sample_tasks",),
                 extra: tuple[str, ...] = ()) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix="tc-worker-", suffix=".log")[1])
        cmd = [sys.executable, "-m", "tasks_core.cli.main", "worker", "--pool", pool,
               "--concurrency", str(concurrency), "--loglevel", "INFO", *extra]
        for module in imports:
            cmd += ["--import", module]
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.concurrency = concurrency

    def wait_ready(self, client: redis.Redis, prefix: str, timeout: float = 30) -> None:
        """Until every pool process heartbeats (they start on process init)."""
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.output()}")
            return "ready" in self.output() and len(
                list(client.scan_iter(f"{prefix}:proc:*"))) >= self.concurrency
        wait_until(ready, timeout, 0.1, "worker to be ready")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20, *,
             group: bool = True) -> None:
        """Signal the worker (its whole process group, or only the main process)."""
        if self.proc.poll() is None:
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `tasks-core ARGS` as a subprocess with `env`; its completed process."""
    return subprocess.run([sys.executable, "-m", "tasks_core.cli.main", *args], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def record_of(task: Any, parameters_json: str, *, state: Any, queue: str | None = None) -> Any:
    """A run record of `task` (a Task) as `.delay()` would create it, not written yet."""
    from tasks_core.engine import new_runs

    return new_runs.task_run(task, parameters_json, task.options, None, state=state,
                             queue=queue)


def refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """A CLI call that exited 1 with one red error line naming every fragment, and no
    traceback."""
    assert result.returncode == 1, (result.args, result.stdout, result.stderr)
    assert "Traceback (most recent call last)" not in result.stderr + result.stdout
    assert result.stderr.strip().startswith("error:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (result.args, result.stderr)


def json_lines(text: str) -> list[Any]:
    """The objects of `ls --json` output: one JSON document per non-empty line."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class ApiServer:
    """A real `tasks-core server` subprocess on a free port; `url` is its base URL."""

    def __init__(self, env: dict[str, str], *, host: str = "127.0.0.1",
                 extra: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://{host}:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="tc-server-", suffix=".log")[1])
        self.log = self.log_path.open("w")
        cmd = [sys.executable, "-m", "tasks_core.cli.main", "server", "--host", host,
               "--port", str(self.port), *extra]
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 30) -> None:
        """Until `/api/health` answers 200."""
        import httpx

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.output()}")
            try:
                return httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        wait_until(ready, timeout, 0.1, "the API server to answer")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()
