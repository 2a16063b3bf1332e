"""Fixtures: one real redis-server per test session, isolated settings per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.helpers import ROOT, ApiServer, RedisServer, Worker

ENV_KEYS = ("TASKS_CORE_REDIS_URL", "TASKS_CORE_KEY_PREFIX", "TASKS_CORE_BROKER_URL",
            "TASKS_CORE_DEFAULT_POOL")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


def _settings_values(redis_url: str) -> dict[str, str]:
    """The TASKS_CORE_* variables of one isolated test environment: a fresh key prefix and
    queue on the test Redis, short heartbeat and sweeper intervals."""
    suffix = uuid.uuid4().hex[:8]
    return {
        "TASKS_CORE_REDIS_URL": redis_url,
        "TASKS_CORE_KEY_PREFIX": f"t{suffix}",
        "TASKS_CORE_DEFAULT_POOL": f"q{suffix}",
        "TASKS_CORE_HEARTBEAT_INTERVAL_SECONDS": "0.5",
        "TASKS_CORE_HEARTBEAT_TIMEOUT_SECONDS": "2",
        "TASKS_CORE_PENDING_RESEND_SECONDS": "2",
        "TASKS_CORE_SWEEP_INTERVAL_SECONDS": "0.5",
        "TASKS_CORE_BEAT_INTERVAL_SECONDS": "0.2",
    }


def _isolated_env(redis_server: RedisServer,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Set the variables of `_settings_values` in this process (undone by `monkeypatch`),
    yield the environment dict; delete the prefix's keys after."""
    from tasks_core.process_runtime import reset_runtime
    from tasks_core.settings import reset_settings

    values = _settings_values(redis_server.url)
    prefix = values["TASKS_CORE_KEY_PREFIX"]
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    reset_runtime()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield {"env": env, "prefix": prefix, "queue": values["TASKS_CORE_DEFAULT_POOL"],
           "client": client, "url": redis_server.url}
    reset_runtime()
    reset_settings()
    for key in client.scan_iter(f"{prefix}:*"):  # kombu's keys too: {prefix}:q:...
        client.delete(key)


@pytest.fixture
def tc_env(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Point tasks-core at the test Redis with a unique key prefix and queue for this test."""
    yield from _isolated_env(redis_server, monkeypatch)


@pytest.fixture(scope="module")
def module_env(redis_server: RedisServer) -> Iterator[dict[str, Any]]:
    """Like `tc_env`, but one key prefix and queue for a whole test module: for processes
    (a worker, Flower) that a module's tests share instead of starting one each. A test
    that also asks for `tc_env` runs under its own prefix instead; this module's is back
    after it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _isolated_env(redis_server, monkeypatch)


@pytest.fixture
def start_worker(tc_env: dict[str, Any]) -> Iterator[Any]:
    """Start real worker subprocesses on this test's queue; all stopped at teardown."""
    workers: list[Worker] = []

    def start(concurrency: int = 2, pool: str | None = None, wait: bool = True,
              **kwargs: Any) -> Worker:
        worker = Worker(tc_env["env"], pool or tc_env["queue"], concurrency=concurrency,
                        **kwargs)
        workers.append(worker)
        if wait:
            worker.wait_ready(tc_env["client"], tc_env["prefix"])
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def start_beat(tc_env: dict[str, Any]) -> Iterator[Any]:
    """Start real `tasks-core beat` subprocesses; all stopped at teardown."""
    import signal
    import subprocess
    import sys

    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str, **settings: str) -> subprocess.Popen[bytes]:
        """A beat; `args` are added to its command line (``"--import", "mod"``); `settings`
        override TASKS_CORE_<NAME> variables (beat_interval_seconds=...)."""
        env = {**tc_env["env"], **{f"TASKS_CORE_{k.upper()}": v for k, v in settings.items()}}
        proc = subprocess.Popen([sys.executable, "-m", "tasks_core.cli.main", "beat", *args],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)


@pytest.fixture
def start_server(tc_env: dict[str, Any]) -> Iterator[Any]:
    """Start real `tasks-core server` subprocesses (the HTTP API) on free ports; all stopped
    at teardown. `start(**settings)` overrides TASKS_CORE_<NAME> variables; it returns an
    `ApiServer` that answers (`.url` is its base URL)."""
    servers: list[ApiServer] = []

    def start(*, wait: bool = True, host: str = "127.0.0.1", extra: tuple[str, ...] = (),
              **settings: str) -> ApiServer:
        env = {**tc_env["env"], **{f"TASKS_CORE_{k.upper()}": v for k, v in settings.items()}}
        server = ApiServer(env, host=host, extra=extra)
        servers.append(server)
        if wait:
            server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()
