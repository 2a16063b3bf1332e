"""Helpers of bench/tasks_alone.py: a private redis-server, worker subprocesses, statistics.

Every process started here runs in its own session (process group), is registered with a
`Processes` object, and is stopped by it (SIGTERM to its group, then SIGKILL) whatever
happens to the bench: error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import redis

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_executable(name: str) -> str | None:
    """`name` next to this interpreter (the venv's bin/), else on PATH."""
    here = Path(sys.executable).parent / name
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which(name)


@dataclass
class Managed:
    """A started subprocess, its label and its log file."""

    label: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    def log_tail(self, lines: int = 40) -> str:
        self.log_file.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    """The subprocesses of one bench run; `stop_all` ends each of them by its own id."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tc-bench-")))
    started: list[Managed] = field(default_factory=list)

    def start(self, label: str, argv: Sequence[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> Managed:
        log_path = self.workdir / f"{label}.log"
        log_file = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(
            list(argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log_file,
            stderr=subprocess.STDOUT, start_new_session=True)
        managed = Managed(label, proc, log_path, log_file)
        self.started.append(managed)
        return managed

    def stop(self, managed: Managed, timeout: float = 15.0) -> None:
        """SIGTERM to the process group (the worker and its pool children), then SIGKILL."""
        proc = managed.proc
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        # children (prefork pool processes) may outlive a parent that exited
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        managed.log_file.close()
        if managed in self.started:
            self.started.remove(managed)

    def stop_all(self) -> None:
        for managed in reversed(list(self.started)):
            try:
                self.stop(managed)
            except Exception as exc:  # keep stopping the others
                print(f"warning: could not stop {managed.label} (pid {managed.proc.pid}): "
                      f"{exc}", file=sys.stderr)
        shutil.rmtree(self.workdir, ignore_errors=True)


SYSTEM_REDIS = "/usr/bin/redis-server"


def redis_binary() -> str:
    """The system redis-server when installed, else one on PATH or in the venv."""
    if os.access(SYSTEM_REDIS, os.X_OK):
        return SYSTEM_REDIS
    found = shutil.which("redis-server") or find_executable("redis-server")
    if not found:
        raise RuntimeError("redis-server not found (install it, or pass --redis-server)")
    return found


def start_redis(procs: Processes, port: int | None = None, timeout: float = 10.0,
                binary: str | None = None) -> tuple[Managed, str]:
    """A throwaway redis-server (no RDB, no AOF) on a free port; (process, URL)."""
    binary = binary or redis_binary()
    port = port or free_port()
    data = procs.workdir / "redis"
    data.mkdir(exist_ok=True)
    managed = procs.start("redis", [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(data), "--daemonize", "no", "--protected-mode", "no",
        "--loglevel", "warning", "--maxmemory-policy", "noeviction",
    ])
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + timeout
    while True:
        if managed.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited ({managed.proc.returncode}):\n"
                               f"{managed.log_tail()}")
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server not answering on {url}") from None
            time.sleep(0.05)
    client.close()
    return managed, url


def install_signal_exit() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so `finally` blocks clean up."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; values must be sorted."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def iso_timestamp(text: str) -> float:
    """Epoch seconds of an ISO 8601 time (naive means UTC)."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


REPO = Path(__file__).resolve().parent.parent


def prepare_env(redis_url: str, key_prefix: str, workdir: Path,
                extra: dict[str, str] | None = None) -> dict[str, str]:
    """Set this process's environment (tasks-core defaults, plus `extra`) before tasks_core
    is imported, and return the environment for the bench's subprocesses."""
    dropped = sorted(k for k in os.environ if k.startswith("TASKS_CORE_"))
    for key in dropped:
        del os.environ[key]
    if dropped:
        print(f"note: ignoring inherited {', '.join(dropped)} (the bench uses the defaults)")
    empty_toml = workdir / "tasks-core.toml"
    empty_toml.write_text("# bench: every setting at its default\n")
    os.environ.update({
        "TASKS_CORE_REDIS_URL": redis_url,
        "TASKS_CORE_KEY_PREFIX": key_prefix,
        "TASKS_CORE_CONFIG": str(empty_toml),
        **(extra or {}),
    })
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_api_server(procs: Processes, script: Path, env: dict[str, str],
                     timeout: float = 30.0) -> str:
    """Start `script --serve PORT` (a bench's server process: the API app plus its bare
    route) on a free port; its base URL once ``/api/health`` answers 200.

    Raises:
        RuntimeError: it did not answer within `timeout` (its log's tail is printed).
    """
    import httpx

    port = free_port()
    server = procs.start("server", [sys.executable, str(script), "--serve", str(port)],
                         env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            print(server.log_tail(), file=sys.stderr)
            raise RuntimeError("the bench server did not answer")
        time.sleep(0.1)


@dataclass
class RedisProbe:
    """What one redis-server holds and has spent: memory from INFO, CPU from /proc.

    ``used_memory`` is INFO memory's (bytes: the dataset, key tables and client buffers);
    a delta is taken with no client busy, after a settle. CPU is the server process's user
    plus system time (/proc/<pid>/stat fields 14 and 15, in clock ticks), every thread.
    """

    client: redis.Redis
    pid: int

    def used_memory(self, settle_s: float = 0.5) -> int:
        time.sleep(settle_s)
        return int(self.client.info("memory")["used_memory"])

    def reset_commandstats(self) -> None:
        """Zero INFO commandstats (CONFIG RESETSTAT) so that what follows is counted alone."""
        self.client.config_resetstat()

    def commandstats(self) -> dict[str, tuple[int, int]]:
        """Calls and microseconds of server time per command since the last reset.

        From INFO commandstats: ``{"evalsha": (calls, usec), ...}``. The microseconds are
        the command's own execution time as Redis measures it (a script's commands are
        counted under their own names too, and again inside EVALSHA's time).
        """
        stats = self.client.info("commandstats")
        return {name.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"]))
                for name, v in stats.items()}

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> list[int]:
    """`root` and every process below it (from /proc/PID/stat's parent ids)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def cpu_by_process(root: int) -> dict[int, float]:
    """CPU seconds (user + system, /proc/PID/stat fields 14 and 15) of `root` and each
    process below it, by pid; a process gone meanwhile is left out."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in descendants(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def machine_cpu() -> tuple[float, float]:
    """The whole machine's CPU time so far, busy and total, in clock ticks summed over every
    core (the ``cpu`` line of /proc/stat: total = every field, busy = total - idle - iowait);
    busy share over a window = delta busy / delta total."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = float(sum(fields[:8]))  # user..steal; guest time is inside user already
    return total - fields[3] - fields[4], total


class BenchError(RuntimeError):
    """A bench step found something wrong: printed, and the bench exits 1."""


def run_bench(body: Callable[[Processes], int]) -> int:
    """Run a bench's `body` with its subprocesses (all stopped at the end, however it ends);
    its exit status: the body's, 1 on a BenchError or another exception (printed), 130 on
    Ctrl-C; a terminating signal is re-raised after the clean-up."""
    install_signal_exit()
    procs = Processes()
    try:
        return body(procs)
    except BenchError as exc:
        print(f"\nbench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    except SystemExit:
        print("\nterminated by a signal; cleaning up", file=sys.stderr)
        raise
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        procs.stop_all()


def target_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a side-by-side table of six columns (metric, peer, tasks-core, ratio,
    target, result): the metric and target left-aligned, the figures right-aligned, a rule
    under the head."""
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines: list[str] = []
    for i, r in enumerate([head, *rows]):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:4], widths[1:4],
                                                                          strict=True)]
        cells += [r[4].ljust(widths[4]), r[5]]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("-" * len(lines[0]))
    return lines


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write a bench's results (indented JSON) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"results written to {path}")
