"""`tasks-core task-run cancel` and `flow-run cancel`: one way to cancel, for both kinds."""

from __future__ import annotations

from rich.text import Text

from tasks_core.cli.ids import resolve_run
from tasks_core.cli.output import console, expected_errors, fail, state_text
from tasks_core.errors import RunNotFound

__all__ = ["cancel_and_report"]

FORCE_HELP = ("also kill the worker process running it now (Celery's revoke with "
              "terminate=True; prefork pool only)")


def cancel_and_report(run_id: str, kind: str, *, force: bool) -> None:
    """Cancel run `run_id` (an id or a unique start of one) of `kind` (``task`` or ``flow``)
    and say what became of it."""
    with expected_errors():
        from tasks_core.engine.cancel import cancel_run
        from tasks_core.process_runtime import get_runtime

        rt = get_runtime()
        try:
            run_id = resolve_run(rt.store, rt.indexes, run_id, kind)
            record = rt.store.get(run_id)
        except RunNotFound as exc:
            fail(f"{kind} {exc}; list recent runs with `tasks-core {kind}-run ls`")
        if record.kind != kind:
            fail(f"run {run_id} is a {record.kind} run; use `tasks-core {record.kind}-run "
                 f"cancel {run_id}`")
        if record.is_terminal:
            console.print(Text.assemble(f"{kind.capitalize()} run {run_id} already ended: ",
                                        state_text(record.state.value)))
            return
        state = cancel_run(run_id, force=force, reason="cancelled from the command line")
    what = {"Cancelled": "cancelled",
            "Cancelling": "asked to stop; it ends Cancelled when its attempt stops"}
    console.print(Text.assemble(f"{kind.capitalize()} run {run_id} ", state_text(state.value),
                                f": {what.get(state.value, 'ended meanwhile')}"))
