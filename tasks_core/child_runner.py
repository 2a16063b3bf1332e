"""In a worker: how a flow waiting on a child deployment run of a pool this worker serves
runs the child itself when no one has claimed it (`tasks_core.deployments.runs`).

The worker registers its flow-run executor here at start-up (`run_children_with`); this
module is apart from `tasks_core.deployments` so that registering does not import the
deployments (their definition, schedules, croniter) into the worker's main process and
each of its prefork children (issue 16, footprint), and it imports no engine either.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["child_runner", "run_children_with"]

_child_runner: Callable[[str], object] | None = None


def run_children_with(runner: Callable[[str], object]) -> None:
    """In a worker: how a parent waiting on a child run of a pool this worker serves runs
    the child itself when no one has claimed it (the worker registers its flow-run
    executor, ungated; this module does not import the worker's engine)."""
    global _child_runner
    _child_runner = runner


def child_runner() -> Callable[[str], object] | None:
    """The runner the worker registered (None outside a worker)."""
    return _child_runner
