"""A deployment's flow run on a worker: gate -> claim -> load the flow -> attempts -> report.

Used by workers (the `tasks_core.run_flow` Celery task) and by a process waiting on a child
run of its own pool (run_deployment), so neither imports the other. Retries of a flow run
wait on the worker that runs it; its outcome is written before the message is acked, and
mirrored onto the placeholder of the parent that started it (a run_deployment subflow).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tasks_core.engine.attempt import Body, call_attempt, call_attempt_async
from tasks_core.engine.celery_view import show
from tasks_core.engine.claim import ClaimedRun, apply_claim, claim
from tasks_core.engine.context import RunFrame, current_run
from tasks_core.engine.entrypoints import deployment_flow
from tasks_core.engine.hooks import RunHooks
from tasks_core.engine.lifecycle import (
    RunHandle,
    conclude,
    failsafe,
    run_attempts,
    run_attempts_async,
)
from tasks_core.engine.outcome import Decision, Ended, cancelled_before_start
from tasks_core.engine.recovery import handle_refused_claim
from tasks_core.errors import (
    ConfigurationError,
    DeploymentNotFound,
    ParameterError,
    RunNotFound,
)
from tasks_core.flow import Flow
from tasks_core.job_variables import run_environment
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.states import StateName
from tasks_core.work_pools import pool_of, pool_store, release_slot, work_queue_of

__all__ = ["execute_flow_run"]

log = logging.getLogger("tasks_core.worker")


def execute_flow_run(run_id: str, attempt: int = 1, *, gate: bool = True,
                     tree: tuple[str | None, str | None] = (None, None)) -> Decision | None:
    """Claim and run a flow run here; how it ended, or None when another process has it
    (or it ended, or its pool parked it).

    With `gate`, the run first passes its work pool's gate (paused pools, paused work
    queues and full pools park it). A parent waiting on its child runs the child with
    `gate=False`: the child uses the slot its blocked parent holds, so a full pool cannot
    deadlock; it executes inside the parent's Celery task, so it is shown to Celery as a
    task of its own (`celery_view`). `tree`: Celery's ``root_id`` and ``parent_id`` of its message.
    """
    rt = get_runtime()
    queue = rt.store.field(run_id, "queue")
    if gate and queue and not pool_store(rt).acquire(pool_of(queue), run_id,
                                                     work_queue_of(queue)):
        log.info("flow run %s: queue %s is paused or its pool full; parked", run_id, queue)
        return None
    outcome = apply_claim(rt, claim(run_id, attempt, rt.owner, "flow"))
    if not outcome.applied:
        if gate and queue and outcome.state != StateName.RUNNING:
            release_slot(queue, run_id)
        recovered = handle_refused_claim(rt, run_id, attempt, outcome)
        if recovered is None and outcome.state == StateName.CANCELLED:
            return cancelled_before_start(run_id)
        return recovered
    assert outcome.record is not None
    run = ClaimedRun.from_fields(outcome.record, attempt, "flow")
    run.root_id, run.celery_parent_id = tree
    parent = current_run.get()
    try:
        return run_claimed_flow(rt, run, shown_in=None if gate else
                                (parent.run_id if parent else run.parent_flow_run_id))
    finally:
        if gate and queue:
            release_slot(queue, run_id)


def run_claimed_flow(rt: Runtime, run: ClaimedRun, *, shown_in: str | None = None) -> Decision:
    """Run a claimed deployment flow run to its end (retries wait here); how it ended.
    `shown_in`: the run it executes inside, when it is not its message's own Celery task
    (it is then shown to Celery as one, `celery_view`)."""
    parent = current_run.get()
    frame = RunFrame(run.id, "flow", run.id, run.options.log_prints,
                     parent.root if parent else run.root_id)
    handle = RunHandle(run.id, "flow", run.options, frame, placeholder_id=run.parent_task_run_id,
                       on_worker=True, requeue=run)
    if shown_in is not None:
        show(handle, run.name, run.argsrepr, shown_in, run.attempt)
    decision: Decision | None = None
    with failsafe(rt, handle, run.attempt, reraise=False) as guard:
        try:
            flow = deployment_flow(rt, run.deployment_id or "", flow_type=Flow)
            handle.hooks = _hooks(rt, flow, run)  # a bad parameter below calls on_failure
            args, kwargs = flow.parameters.decode(run.parameters)
        except (ConfigurationError, DeploymentNotFound, ParameterError) as exc:
            return conclude(rt, handle, run.attempt,
                            Ended.failure(exc, retryable=False)).decision
        body = Body(flow.invoke_async if flow.is_async else flow.invoke, args, kwargs,
                    frame=frame, owner=f"flow {flow.name!r}",
                    timeout_seconds=run.options.timeout_seconds, store_result=True,
                    result_max_bytes=rt.settings.result_max_bytes,
                    result_storage=run.options.result_storage)
        with run_environment(run.options.env):  # job_variables' env, for the run
            if flow.is_async:
                decision = asyncio.run(run_attempts_async(
                    rt, handle, lambda: call_attempt_async(body), first=run.attempt))
            else:
                decision = run_attempts(rt, handle, lambda: call_attempt(body),
                                        first=run.attempt)
    decision = decision or guard.decision
    assert decision is not None  # an engine error is concluded by the failsafe
    return decision


def _hooks(rt: Runtime, flow: Flow[Any, Any], run: ClaimedRun) -> RunHooks | None:
    """The run's hooks, with the run's own tags (the deployment's and the caller's), read
    only when the flow has hooks."""
    if not flow.hooks:
        return None
    try:
        tags: list[str] | None = rt.store.get(run.id).tags
    except (ConnectionError, RunNotFound):  # the flow's own tags rather than no run at all
        tags = None
    return RunHooks.of_claimed(flow, run, tags=tags)
