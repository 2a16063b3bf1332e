"""The `tasks-core` CLI end to end: real subprocesses against a real redis-server.

Runs are created in this process through the public API (calling a task runs it here and
records it); the CLI then reads them from Redis like any user would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tasks_core import task
from tasks_core.process_runtime import get_runtime, reset_runtime
from tasks_core.settings import Settings, reset_settings
from tasks_core.store.embedded import embedded_status, ensure_embedded, stop_embedded
from tests.helpers import wait_until

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
TRACEBACK = "Traceback (most recent call last)"


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def boom(message: str) -> None:
    raise ValueError(message)




def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_ping(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: answers_ping(port))
        yield port
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def cli_env(
    redis_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """This process and the CLI on the test Redis, under a key prefix of their own."""
    for name in list(os.environ):
        if name.startswith(("TASKS_CORE_", "FLOWER_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TASKS_CORE_REDIS_URL", f"redis://127.0.0.1:{redis_port}/0")
    monkeypatch.setenv("TASKS_CORE_KEY_PREFIX", f"e2e-{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("TASKS_CORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TASKS_CORE_CONNECT_RETRIES", "0")
    monkeypatch.chdir(tmp_path)  # no stray ./tasks-core.toml
    reset_settings()
    reset_runtime()
    yield {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    reset_runtime()
    reset_settings()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tasks_core.cli.main", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )


def record_runs() -> tuple[str, str]:
    """One Completed and one Failed run, written to Redis; their ids."""
    assert add(1, 2) == 3
    with pytest.raises(ValueError):
        boom("kaboom")
    get_runtime().reporter.flush()
    store = get_runtime().store
    ids = store.list_ids("task", limit=10)
    names = {record.name: record.id for record in store.get_many(ids)}
    return names["add"], names["boom"]


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {key: value for key, value in env.items() if key not in names}


# -- task-run ls --------------------------------------------------------------------------


def test_ls_lists_newest_runs_and_filters(cli_env: dict[str, str]) -> None:
    add_id, boom_id = record_runs()

    listed = cli(cli_env, "task-run", "ls")
    assert listed.returncode == 0, listed.stderr
    for expected in (add_id[:8], boom_id[:8], "add", "boom", "Completed", "Failed", "1/1"):
        assert expected in listed.stdout
    assert listed.stdout.index(boom_id[:8]) < listed.stdout.index(add_id[:8])  # newest first

    failed = cli(cli_env, "task-run", "ls", "--state", "failed")
    assert failed.returncode == 0, failed.stderr
    assert boom_id[:8] in failed.stdout and add_id[:8] not in failed.stdout

    named = cli(cli_env, "task-run", "ls", "--name", "add", "--limit", "5")
    assert named.returncode == 0, named.stderr
    assert add_id[:8] in named.stdout and boom_id[:8] not in named.stdout


def test_ls_rejects_an_unknown_state(cli_env: dict[str, str]) -> None:
    result = cli(cli_env, "task-run", "ls", "--state", "Bogus")
    assert result.returncode != 0
    assert "unknown state 'Bogus'" in result.stderr
    assert "Completed" in result.stderr and "AwaitingRetry" in result.stderr
    assert TRACEBACK not in result.stderr


def test_ls_without_runs_says_so(cli_env: dict[str, str]) -> None:
    result = cli(cli_env, "task-run", "ls", "--state", "Running")
    assert result.returncode == 0, result.stderr
    assert "No task runs with state Running" in result.stdout


# -- task-run inspect ---------------------------------------------------------------------


def test_inspect_shows_fields_result_and_history(cli_env: dict[str, str]) -> None:
    add_id, boom_id = record_runs()

    shown = cli(cli_env, "task-run", "inspect", add_id)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert add_id in out and "Completed" in out
    assert '"x": 1' in out and '"y": 2' in out  # parameters
    assert "Result" in out and "3  (1 bytes of JSON)" in out
    assert "State history" in out and "Running" in out and "Time in state" in out

    failed = cli(cli_env, "task-run", "inspect", boom_id)
    assert failed.returncode == 0, failed.stderr
    assert "ValueError: kaboom" in failed.stdout
    assert "Traceback" in failed.stdout and "raise ValueError(message)" in failed.stdout

    as_json = cli(cli_env, "task-run", "inspect", add_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["id"] == add_id and data["state"] == "Completed"
    assert data["parameters"] == {"x": 1, "y": 2} and data["result"] == 3
    assert [entry["name"] for entry in data["history"]] == ["Running", "Completed"]


def test_inspect_unknown_id_is_a_clear_error(cli_env: dict[str, str]) -> None:
    result = cli(cli_env, "task-run", "inspect", "no-such-run")
    assert result.returncode == 1
    assert "'no-such-run' not found" in result.stderr
    assert TRACEBACK not in result.stderr and TRACEBACK not in result.stdout


# -- redis status / down ------------------------------------------------------------------


def test_redis_status_reports_the_configured_redis(
    cli_env: dict[str, str], redis_port: int
) -> None:
    env = {**cli_env, "TASKS_CORE_BROKER_URL": f"redis://user:s3cret@127.0.0.1:{redis_port}/1"}
    result = cli(env, "redis", "status")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"configured redis://127.0.0.1:{redis_port}/0" in out
    assert "user:***@" in out and "s3cret" not in out
    assert "Server version" in out and "noeviction" in out
    assert "warning" not in out


def test_redis_status_warns_about_an_evicting_redis(
    cli_env: dict[str, str], redis_port: int
) -> None:
    client = redis.Redis(port=redis_port)
    client.config_set("maxmemory-policy", "allkeys-lru")
    try:
        result = cli(cli_env, "redis", "status")
    finally:
        client.config_set("maxmemory-policy", "noeviction")
    assert result.returncode == 0, result.stderr
    assert "warning: maxmemory-policy is allkeys-lru" in result.stdout


def test_redis_status_of_an_unreachable_redis(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "TASKS_CORE_REDIS_URL": f"redis://:pw@127.0.0.1:{free_port()}/0"}
    result = cli(env, "redis", "status")
    assert result.returncode == 1
    assert "cannot reach Redis at redis://:***@127.0.0.1" in result.stderr
    assert "pw@" not in result.stderr + result.stdout and TRACEBACK not in result.stderr


def test_embedded_status_does_not_start_it_and_down_stops_it(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = without(cli_env, "TASKS_CORE_REDIS_URL")
    data_dir = tmp_path / "data"

    idle = cli(env, "redis", "status")
    assert idle.returncode == 0, idle.stderr
    assert "embedded, not running" in idle.stdout
    assert not (data_dir / "redis.json").exists()  # status did not start one
    none = cli(env, "down")
    assert none.returncode == 0 and "No embedded Redis was running" in none.stdout

    settings = Settings(data_dir=data_dir)
    server = ensure_embedded(settings)
    try:
        running = cli(env, "redis", "status")
        assert running.returncode == 0, running.stderr
        for expected in (f"embedded {server.url}", str(server.pid), server.binary, "appendonly"):
            assert expected in running.stdout
        stopped = cli(env, "down")
        assert stopped.returncode == 0, stopped.stderr
        assert f"Stopped the embedded Redis (pid {server.pid}" in stopped.stdout
        assert embedded_status(settings) is None
    finally:
        stop_embedded(settings)


# -- flower -------------------------------------------------------------------------------


def test_flower_refuses_a_public_address_without_credentials(cli_env: dict[str, str]) -> None:
    # Redis is unreachable: a credentials error proves the check runs before anything starts.
    env = {**cli_env, "TASKS_CORE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}

    refused = cli(env, "flower", "--address", "0.0.0.0")
    assert refused.returncode == 1
    assert "without credentials" in refused.stderr and "--basic-auth" in refused.stderr
    assert TRACEBACK not in refused.stderr

    malformed = cli(env, "flower", "--address", "0.0.0.0", "--basic-auth", "admin")
    assert malformed.returncode == 1 and "user:password" in malformed.stderr

    from_env = cli({**env, "TASKS_CORE_FLOWER_BASIC_AUTH": "admin:pw"},
                   "flower", "--address", "0.0.0.0")
    assert from_env.returncode == 1  # past the check, stopped by the missing Redis
    assert "cannot reach Redis" in from_env.stderr


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_flower_serves_http_on_localhost(cli_env: dict[str, str]) -> None:
    port = free_port()
    flower = subprocess.Popen(
        [sys.executable, "-m", "tasks_core.cli.main", "flower", "--port", str(port)],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        status: list[int | None] = [None]

        def serving() -> bool:
            assert flower.poll() is None, "flower exited early"
            status[0] = http_status(f"http://127.0.0.1:{port}/")
            return status[0] in (200, 401)

        wait_until(serving, timeout=20)
    finally:
        flower.terminate()
        try:
            output, _ = flower.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            flower.kill()
            output, _ = flower.communicate()
    assert f"Flower on http://127.0.0.1:{port}" in output, output
