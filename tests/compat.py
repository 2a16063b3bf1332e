"""Shared by the compat suites: programs written for Celery or Prefect, their import lines
rewritten for tasks-core, run as real processes, their printed lines compared.

A program is one file, ``programs/NAME.py``, written as its framework's documentation
spells it. Its first lines may carry headers:

    # needs: worker beat          processes the program needs besides its own
    # timeout: 60                 seconds the program may take (default 60)
    # pool: prefork               the Celery worker's pool (default solo; prefork enforces
                                  time limits)

and its last lines an expected output block:

    # expect:
    # 42
    # SUCCESS

The program prints its outcome, one fact per line (values, state names, exception class
names), and exits 0. Only import lines change when it is ported: `port_imports` rewrites
them by the suite's rules, or by an explicit ``# tasks-core: <line>`` comment on an import
line (for the rare import the rules do not cover); a rewrite of anything but an import
line is refused, so a program cannot be adapted behind the reader's back.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Program", "load_program", "port_imports", "run_program"]

_EXPLICIT = re.compile(r"^(?P<line>\s*(from|import)\s.*?)\s*#\s*tasks-core:\s*(?P<new>.+)$")
_IMPORT = re.compile(r"^\s*(from\s+\S+\s+import\s|import\s)")


@dataclass
class Program:
    """One compat program: its name, source, needed processes, timeout and expected lines."""

    name: str
    path: Path
    source: str
    needs: set[str] = field(default_factory=set)
    timeout: float = 60.0
    pool: str = "solo"
    expect: list[str] | None = None


def load_program(path: Path) -> Program:
    """Parse a program's headers and expect block (see the module docstring)."""
    source = path.read_text()
    program = Program(path.stem, path, source)
    lines = source.splitlines()
    for line in lines[:10]:
        if line.startswith("# needs:"):
            program.needs = set(line.split(":", 1)[1].split())
        elif line.startswith("# timeout:"):
            program.timeout = float(line.split(":", 1)[1])
        elif line.startswith("# pool:"):
            program.pool = line.split(":", 1)[1].strip()
    if "# expect:" in lines:
        start = lines.index("# expect:")
        program.expect = [line[2:] if line.startswith("# ") else line.lstrip("#")
                          for line in lines[start + 1:] if line.startswith("#")]
    return program


def port_imports(source: str, rule: Callable[[str], str | None]) -> str:
    """`source` with its import lines rewritten: an explicit ``# tasks-core: <line>``
    comment wins, else `rule(line)` (None: unchanged). Only import lines may change.

    Raises:
        ValueError: a rewrite marker on a line that is not an import.
    """
    out = []
    for number, line in enumerate(source.splitlines(), 1):
        explicit = _EXPLICIT.match(line)
        if "# tasks-core:" in line and not explicit:
            raise ValueError(f"line {number}: '# tasks-core:' is allowed on import lines only")
        if explicit:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + explicit.group("new").strip())
        elif _IMPORT.match(line):
            out.append(rule(line) or line)
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def run_program(folder: Path, name: str, env: dict[str, str], timeout: float
                ) -> subprocess.CompletedProcess[str]:
    """Run ``python NAME.py`` in `folder` (on PYTHONPATH) with `env`; its completed process."""
    path_env = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, f"{name}.py"], cwd=folder, text=True,
                          capture_output=True, timeout=timeout,
                          env={**env, "PYTHONPATH": path_env})


def write_program(source: str, name: str) -> Path:
    """`source` written as ``NAME.py`` into a new temporary folder; the folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"compat-{name}-"))
    (folder / f"{name}.py").write_text(source)
    return folder


def output_lines(result: subprocess.CompletedProcess[str], what: str) -> list[str]:
    """The program's printed lines; fails naming `what` and its stderr when it did not exit 0."""
    assert result.returncode == 0, (
        f"{what} exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n"
        f"{result.stderr[-4000:]}")
    return result.stdout.splitlines()


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Stop a started process group (SIGTERM, then SIGKILL)."""
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def start(cmd: list[str], folder: Path, env: dict[str, str], log: Path
          ) -> subprocess.Popen[bytes]:
    """Start `cmd` in `folder` (on PYTHONPATH) in its own process group, output to `log`."""
    path_env = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    handle = log.open("wb")
    return subprocess.Popen(cmd, cwd=folder, env={**env, "PYTHONPATH": path_env},
                            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def start_tasks_core(program: Program, folder: Path, env: dict[str, str], queue: str, *,
                     beat: bool) -> list[subprocess.Popen[bytes]]:
    """The tasks-core processes `program` needs: a worker on `queue` importing it (waited
    for) when its header asks, and a beat (importing it when the header asks for beat) when
    `beat` or the header asks; the started processes, to `stop`."""
    cli = [sys.executable, "-m", "tasks_core.cli.main"]
    procs = []
    if "worker" in program.needs:
        log = folder / "worker.log"
        proc = start([*cli, "worker", "--pool", queue, "--concurrency", "2", "--import",
                      program.name], folder, env, log)
        procs.append(proc)
        wait_for_text(log, proc, "ready", 60)
    if beat or "beat" in program.needs:
        imports = ["--import", program.name] if "beat" in program.needs else []
        procs.append(start([*cli, "beat", *imports], folder, env, folder / "beat.log"))
    return procs


def wait_for_text(log: Path, proc: subprocess.Popen[bytes], text: str, timeout: float) -> None:
    """Until `text` appears in `log`; fails with the log when `proc` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{proc.args} not ready ({text!r}):\n"
                                 f"{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.05)
