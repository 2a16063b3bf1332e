"""The Celery tasks of a worker: a run id in, the engine out.

Each is "claim -> run the attempt -> report": the claim (`engine.claim`) makes this
process the one running the attempt, or is refused (a duplicate is dropped, a run whose
process died is recovered); the attempt runs through the one lifecycle
(`engine.lifecycle`), which writes its outcome before the message is acked and sends a
retry back to the queue.
"""

from __future__ import annotations

import logging

from celery import Celery

from tasks_core.celery_app import EXECUTE_CHUNK, EXECUTE_FLOW, EXECUTE_RUN
from tasks_core.deployments.runs import run_children_with
from tasks_core.engine.attempt import Body, call_attempt
from tasks_core.engine.caching import cached_outcome, keep_result
from tasks_core.engine.claim import ClaimedRun, claim
from tasks_core.engine.context import RunFrame
from tasks_core.engine.deployed_run import execute_flow_run
from tasks_core.engine.hooks import RunHooks
from tasks_core.engine.lifecycle import RunHandle, conclude, failsafe, run_attempts
from tasks_core.engine.outcome import Decision, Ended
from tasks_core.engine.recovery import handle_refused_claim
from tasks_core.errors import ParameterError, TaskNotFound
from tasks_core.registry import resolve
from tasks_core.runtime import Runtime, get_runtime
from tasks_core.store.runs import Transition

__all__ = ["execute_chunk", "execute_run", "register_tasks"]

log = logging.getLogger("tasks_core.worker")


def register_tasks(app: Celery) -> None:
    """Register the worker's three Celery tasks on `app`, and let a flow waiting on a
    child flow run of this worker's pools run it here (see `run_deployment`)."""
    run_children_with(lambda run_id: execute_flow_run(run_id, 1, gate=False))

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_RUN, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
    def run(run_id: str, attempt: int = 1) -> None:
        execute_run(run_id, attempt)

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_FLOW, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
    def run_flow(run_id: str, attempt: int = 1) -> None:
        execute_flow_run(run_id, attempt)

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_CHUNK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
    def run_chunk(run_ids: list[str]) -> None:
        execute_chunk(run_ids)


def execute_run(run_id: str, attempt: int = 1) -> None:
    """Claim and execute one attempt of one run."""
    rt = get_runtime()
    outcome = rt.reporter.apply_now([claim(run_id, attempt, rt.owner)])[0]
    if not outcome.applied:
        handle_refused_claim(rt, run_id, attempt, outcome)
        return
    assert outcome.record is not None
    run_claimed_task(rt, ClaimedRun.from_fields(outcome.record, attempt, "task"))


def execute_chunk(run_ids: list[str]) -> None:
    """Execute the first attempts of a chunk of runs (`.map()`), one after another.

    Each run is claimed only when it starts, so a crash leaves the rest untouched for the
    redelivered message. A run's outcome is written with the next run's claim (one round
    trip for both) and the last one before returning: all before the message is acked.
    """
    rt = get_runtime()
    outcomes: list[Transition] = []
    try:
        for run_id in run_ids:
            claimed = rt.reporter.apply_now([*outcomes, claim(run_id, 1, rt.owner)])[-1]
            outcomes = []
            if not claimed.applied:
                handle_refused_claim(rt, run_id, 1, claimed)
                continue
            assert claimed.record is not None
            run_claimed_task(rt, ClaimedRun.from_fields(claimed.record, 1, "task"),
                             deferred=outcomes)
        if outcomes:
            rt.reporter.apply_now(outcomes)
            outcomes = []
    finally:  # Redis went away mid-chunk: the reporter writes them once it is back
        for change in outcomes:
            rt.reporter.transition(change, urgent=True)


def run_claimed_task(rt: Runtime, run: ClaimedRun, *,
                     deferred: list[Transition] | None = None) -> None:
    """Run one claimed attempt of a task run and report how it ended (now, or into
    `deferred` for the caller to write before the message is acked: not for a task with
    hooks, which run after its end is written)."""
    frame = RunFrame(run.id, "task", run.parent_flow_run_id, run.options.log_prints)
    handle = RunHandle(run.id, "task", run.options, frame, retry_here=False, on_worker=True,
                       requeue=run, deferred=deferred)
    with failsafe(rt, handle, run.attempt, reraise=False):
        try:
            task = resolve(run.task_key)
            handle.hooks = RunHooks.of_claimed(task, run)
            if handle.hooks is not None:
                handle.deferred = None
            args, kwargs = task.parameters.decode(run.parameters)
        except (TaskNotFound, ParameterError) as exc:
            conclude(rt, handle, run.attempt, Ended.failure(exc, retryable=False))
            return
        decision: Decision | None = cached_outcome(rt, handle, run.attempt)
        if decision is None:
            body = Body(task.fn, args, kwargs, frame=frame, owner=f"task {task.name!r}",
                        timeout_seconds=run.options.timeout_seconds, store_result=True,
                        result_max_bytes=rt.settings.result_max_bytes)
            decision = run_attempts(rt, handle, lambda: call_attempt(body), first=run.attempt)
            keep_result(rt, handle, decision)
