"""Suspending a deployment's flow run: its attempt ends, its worker slot is freed, and a
resume sends it again to its queue, where any worker runs it again from the start.

Prefect 3's `suspend_flow_run` semantics: the flow body re-runs from its first line; a
pause or suspend it already passed (same key: given, or ``pause-<n>`` in call order)
returns the input it was resumed with at once, so the re-run goes on past it. Work before
the suspend runs again, except tasks whose results are cached (`cache_policy` /
`cache_key_fn`), which return their cached result, as in Prefect. The run waits Paused
meanwhile; beat's sweeper fails it when its timeout passes with no resume (no process
waits for it).

Only a deployment's flow run can be suspended (a flow called in a process exists only in
that process, so nothing else could run it again): anywhere else `PauseError`, as Prefect
refuses to suspend a flow run without a deployment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel

from tasks_core.errors import FlowSuspended
from tasks_core.pausing import (
    Pause,
    PauseError,
    check_request,
    current_flow_run,
    dispatch,
    forget_keys,
    next_key,
    open_pause,
    validate_input,
)
from tasks_core.process_runtime import get_runtime

__all__ = ["FlowSuspended", "suspend_flow_run"]

M = TypeVar("M", bound=BaseModel)


def suspend_flow_run(wait_for_input: type[M] | None = None, flow_run_id: str | None = None,
                     timeout: float = 3600, key: str | None = None) -> M | None:
    """Suspend the deployment flow run executing here (Prefect's `suspend_flow_run`).

    Args:
        wait_for_input: a pydantic model class the resume's input must match (its JSON
            schema is stored with the pause); the re-run gets the validated instance back.
        flow_run_id: accepted for Prefect's signature; only the run executing here can be
            suspended (another id: PauseError).
        timeout: seconds it may wait for a resume before beat's sweeper fails it.
        key: the pause's key (default ``pause-<n>`` in call order within the run).

    Returns:
        In the re-run after a resume: the validated input (or None). The first time it
        does not return: the attempt ends (`FlowSuspended`).

    Raises:
        PauseError: not in a deployment flow run's body. ValidationError: bad arguments.

    In an async flow it returns a coroutine to await, as Prefect's does.
    """
    check_request(wait_for_input, timeout, key)
    run_id = current_flow_run("suspend_flow_run")
    if flow_run_id is not None and str(flow_run_id) != run_id:
        raise PauseError("suspend_flow_run suspends the flow run executing here only")
    result: M | None = dispatch(_suspend, run_id, wait_for_input, timeout, key)
    return result


def _suspend(run_id: str, wait_for_input: type[M] | None, timeout: float,
             key: str | None) -> M | None:
    key = key or next_key(run_id)
    rt = get_runtime()
    done = rt.pauses.resumed(run_id, key)
    if done is not None:
        return validate_input(wait_for_input, done)
    if not rt.store.field(run_id, "deployment_id"):
        raise PauseError(f"flow run {run_id} has no deployment, so nothing could run it "
                         "again: suspend_flow_run needs a deployment's flow run (use "
                         "pause_flow_run to wait in this process)")
    schema = wait_for_input.model_json_schema() if wait_for_input is not None else None
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    open_pause(rt, Pause(run_id=run_id, key=key, input_schema=schema, timeout_seconds=timeout,
                         deadline=deadline, suspend=True), grace=0.0)
    forget_keys(run_id)  # the re-run counts its pauses from 1 again, wherever it runs
    raise FlowSuspended(f"flow run {run_id} suspended ({key}); `tasks-core flow-run resume "
                        f"{run_id}` sends it again")
