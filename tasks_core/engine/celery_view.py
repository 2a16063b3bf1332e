"""Celery's view of runs that execute without a Celery message of their own.

A run that a worker executes from its own message is a Celery task: Celery sends its task
events and signals, and the worker makes them say how the run ended (workers/execute.py).
Other runs execute inside that task: a task run called or submitted (thread runner) inside
a flow on a worker, a nested flow there, a child flow run its waiting parent runs, each run
of a `.map()` chunk. Celery knows nothing of them. A worker installs a `RunWatcher`
(`watch_runs`); the engine then tells it when such a run starts an attempt (`show`,
`RunWatcher.started`) and how each attempt ended (`RunWatcher.concluded`, from
`lifecycle.conclude`), and the worker sends the events and signals the run's own message
would have caused, under the run id, with its tree's ``root_id`` and ``parent_id``. A
process with no watcher (a script, a test, beat) sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tasks_core.engine.lifecycle import RunHandle
    from tasks_core.engine.outcome import Decision

__all__ = ["RunWatcher", "ShownRun", "show", "tell", "watch_runs", "watcher"]

log = logging.getLogger("tasks_core.engine")


@dataclass(frozen=True, slots=True)
class ShownRun:
    """A run shown to Celery as a task of its own.

    Attributes:
        run_id: the run, and its Celery task id.
        name: the task's name in Celery's events (the task's or flow's name).
        argsrepr: its parameters, as Celery's ``args`` field shows them.
        root_id: the top run of its tree; parent_id: the run it executes inside.
    """

    run_id: str
    name: str
    argsrepr: str
    root_id: str
    parent_id: str | None


class RunWatcher(Protocol):
    """What a worker does when a shown run starts an attempt or ends one."""

    def started(self, run: ShownRun, attempt: int) -> None:
        """Attempt `attempt` (1-based) of `run` starts now."""

    def concluded(self, run: ShownRun, decision: Decision, runtime: float) -> None:
        """An attempt of `run` ended as `decision` after `runtime` seconds."""


_watchers: list[RunWatcher] = []


def watch_runs(run_watcher: RunWatcher | None) -> None:
    """Install `run_watcher` for this process (None: remove it)."""
    _watchers.clear()
    if run_watcher is not None:
        _watchers.append(run_watcher)


def watcher() -> RunWatcher | None:
    """The watcher installed in this process, if any."""
    return _watchers[0] if _watchers else None


def show(handle: RunHandle, name: str, argsrepr: str, parent_id: str | None,
         attempt: int = 1) -> None:
    """Show `handle`'s run to Celery as a task executing inside `parent_id` (a run id, or
    the Celery task id of the message that carries it), when a watcher is installed, from
    attempt `attempt` on: later attempts and the end follow from the lifecycle."""
    if not _watchers:
        return
    handle.shown = ShownRun(handle.run_id, name, argsrepr[:256], handle.frame.root, parent_id)
    tell(handle.shown, lambda w, run: w.started(run, attempt))


def tell(run: ShownRun, call: Callable[[RunWatcher, ShownRun], None]) -> None:
    """Tell the installed watcher about `run`; its failure is logged and never touches the
    run (Celery's view is a mirror, not the ledger)."""
    if not _watchers:
        return
    try:
        call(_watchers[0], run)
    except Exception:
        log.exception("run %s: Celery events not sent", run.run_id)
