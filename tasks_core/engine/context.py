"""The run executing in this context: nested runs link to it, logs and prints go to it.

A context variable, so it is right in threads of a flow's task runner (they copy the flow's
context), in async tasks and on workers. Pure: no I/O, imported by everything that needs
to know "which run am I in" without pulling in the engine.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["RunFrame", "current_run"]


@dataclass(frozen=True, slots=True)
class RunFrame:
    """The run executing in this context.

    Attributes:
        run_id: the run.
        kind: ``"task"`` or ``"flow"``.
        flow_run_id: the flow run it belongs to (itself for a flow run), if any.
        log_prints: whether print() here becomes a log entry of the run; resolved when the
            run was created (its own option, else the enclosing run's) and carried with it.
        root_id: the top run of the tree it belongs to (None: itself), Celery's ``root_id``.
    """

    run_id: str
    kind: str = "task"
    flow_run_id: str | None = None
    log_prints: bool = False
    root_id: str | None = None

    @property
    def root(self) -> str:
        """The top run of this run's tree (itself when it has no parent)."""
        return self.root_id or self.run_id


current_run: ContextVar[RunFrame | None] = ContextVar("tasks_core_current_run", default=None)
