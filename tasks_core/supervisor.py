"""Supervise child processes: start them, watch them, stop them all.

Used by `tasks-core up` (worker, beat, Flower) and by `serve()` in the SDK (a worker and a
beat for the served deployments), so it lives outside the CLI: the SDK never imports
`tasks_core.cli`.

One job: a list of commands becomes a list of child processes that live and die together.
Each child runs in a session (and so a process group) of its own, so a Ctrl-C in the
terminal reaches only the supervisor, which then stops every child the same way: SIGTERM
to the child itself (a Celery worker finishes its running tasks: warm shutdown), then,
after a bound, SIGKILL to its whole process group.

Invariant: a child's pid stays reserved until the supervisor reaps it (exits are detected
with ``WNOWAIT``), so SIGKILL to its process group can only reach its own leftovers (a
killed worker's pool processes), never an unrelated process that reused the pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import FrameType

__all__ = [
    "STOP_SIGNALS",
    "Child",
    "ChildSpec",
    "cli_command",
    "describe_exit",
    "run_stack",
    "stop_children",
    "stop_on_signals",
]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that stop the stack (a second one kills what is still running)."""

_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class ChildSpec:
    """A process of the stack, before it starts.

    Attributes:
        name: what it is, as printed (``worker``, ``beat``, ``flower``).
        argv: its command line.
        url: where it serves, if it does (Flower's address), for the start line.
    """

    name: str
    argv: tuple[str, ...]
    url: str | None = None
    env: dict[str, str] | None = None
    """Its environment (None: this process's)."""


@dataclass
class Child:
    """A started process of the stack.

    Attributes:
        spec: what was started.
        proc: its process (the leader of its own process group).
        killed: whether it had to be SIGKILLed because it outlived the stop bound.
    """

    spec: ChildSpec
    proc: subprocess.Popen[bytes]
    killed: bool = field(default=False)

    @property
    def name(self) -> str:
        """The spec's name."""
        return self.spec.name

    @property
    def pid(self) -> int:
        """Its process id (also its process group id)."""
        return self.proc.pid

    def has_exited(self) -> bool:
        """Whether it has exited, without reaping it (its pid stays reserved)."""
        if self.proc.returncode is not None:
            return True
        if not hasattr(os, "waitid"):  # no WNOWAIT here (macOS): reap, accept the small race
            return self.proc.poll() is not None
        try:
            found = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # already reaped elsewhere
            return self.proc.poll() is not None
        return found is not None


def cli_command(*args: str) -> tuple[str, ...]:
    """The argv of ``tasks-core ARGS`` run by this interpreter (so the same environment)."""
    return (sys.executable, "-m", "tasks_core.cli.main", *args)


def describe_exit(code: int) -> str:
    """A child's exit status in words: ``code 3``, or ``code -9 (killed by SIGKILL)``."""
    if code >= 0:
        return f"code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"code {code}"
    return f"code {code} (killed by {name})"


def run_stack(
    specs: Sequence[ChildSpec],
    *,
    stop: threading.Event,
    force: threading.Event | None = None,
    grace_seconds: float = 20.0,
    on_start: Callable[[Child], None] | None = None,
    on_stopping: Callable[[Sequence[Child]], None] | None = None,
) -> tuple[list[Child], Child | None]:
    """Start every spec, supervise until `stop` is set or a child exits, then stop them all.

    Args:
        specs: the processes, started in this order.
        stop: set it (from a signal handler or another thread) to stop the stack.
        force: once set, children still running are SIGKILLed without waiting further.
        grace_seconds: how long children get after SIGTERM before SIGKILL.
        on_start: called with each child as soon as it started.
        on_stopping: called with the children once stopping begins.

    Returns:
        The children started, and the one whose exit ended the stack (None when `stop`
        ended it). Every child has exited and been reaped, even when this raises.
    """
    children: list[Child] = []
    died: Child | None = None
    try:
        for spec in specs:
            if stop.is_set():
                break
            children.append(Child(spec, subprocess.Popen(spec.argv, start_new_session=True,
                                                         env=spec.env)))
            if on_start is not None:
                on_start(children[-1])
        died = _watch(children, stop)
    finally:
        if on_stopping is not None:
            on_stopping(children)
        stop_children(children, grace_seconds=grace_seconds, force=force)
    return children, died


def _watch(children: Sequence[Child], stop: threading.Event) -> Child | None:
    """Until `stop` is set (None) or a child exits (that child)."""
    while not stop.is_set():
        for child in children:
            if child.has_exited():
                return child
        stop.wait(_POLL_SECONDS)
    return None


def stop_children(
    children: Sequence[Child], *, grace_seconds: float, force: threading.Event | None = None
) -> None:
    """SIGTERM the children still running, SIGKILL their groups after the bound, reap all.

    Children that had to be killed are marked (`Child.killed`).
    """
    for child in children:
        if not child.has_exited():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and not (force is not None and force.is_set()):
        if all(child.has_exited() for child in children):
            break
        time.sleep(_POLL_SECONDS)
    for child in children:
        child.killed = not child.has_exited()
        # the whole group: also what the child left behind (a SIGKILLed worker's pool)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.proc.wait()


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event, force: threading.Event) -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP set `stop`; a second one sets `force`.

    Must be entered in the main thread. The previous handlers come back on exit.
    """
    def handle(signum: int, frame: FrameType | None) -> None:
        (force if stop.is_set() else stop).set()

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
