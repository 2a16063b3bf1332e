"""Execute a deployment's flow run: claim it, load its flow, run it, report how it ended.

Used by workers (the `tasks_core.run_flow` Celery task) and by a process waiting on a child
run of its own pool (run_deployment), so neither imports the other.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from tasks_core.engine.entrypoints import load_flow
from tasks_core.engine.params import call_arguments
from tasks_core.engine.recovery import handle_refused_claim
from tasks_core.engine.sources import materialize
from tasks_core.engine.task_run import (
    AttemptResult,
    RunFrame,
    drive_attempts,
    drive_attempts_async,
    error_info,
    outcome_transition,
)
from tasks_core.errors import ConfigurationError, DeploymentNotFound, ParameterError
from tasks_core.runtime import HOST, get_runtime
from tasks_core.states import StateName
from tasks_core.store.deployments import DeploymentStore
from tasks_core.store.runs import Transition, utcnow

__all__ = ["claim_flow_run", "execute_flow_run"]

log = logging.getLogger("tasks_core.worker")

FLOW_CLAIM_FIELDS = ("id", "name", "parameters", "deployment_id", "parent_task_run_id")


def claim_flow_run(run_id: str, attempt: int, owner: str) -> Transition:
    """The transition that makes this process the one running a flow run's attempt."""
    fields = {"attempt": str(attempt), "owner": owner, "worker": HOST}
    if attempt == 1:
        fields["start_time"] = utcnow().isoformat()
    return Transition(run_id, StateName.RUNNING if attempt == 1 else StateName.RETRYING,
                      kind="flow", fields=fields, expected_attempt=attempt - 1,
                      return_fields=FLOW_CLAIM_FIELDS)


def execute_flow_run(run_id: str, attempt: int = 1, *, gate: bool = True) -> bool:
    """Claim and run a flow run here; False when another process has it (or it ended).

    With `gate`, the run first passes its work pool's gate (paused pools and full pools
    park it). A parent waiting on its child runs the child with `gate=False`: the child
    uses the slot its blocked parent holds, so a full pool cannot deadlock.
    """
    from tasks_core.work_pools import pool_of, pool_store, release_slot

    rt = get_runtime()
    queue = str(rt.client.hget(rt.store.keys.run(run_id), "queue") or "")
    if gate and queue and not pool_store(rt).acquire(pool_of(queue), run_id):
        log.info("flow run %s: pool %s is paused or full; parked", run_id, pool_of(queue))
        return False
    outcome = rt.store.transition(claim_flow_run(run_id, attempt, rt.owner))
    if not outcome.applied:
        if gate and queue and outcome.state != StateName.RUNNING:
            release_slot(queue, run_id)
        handle_refused_claim(rt, run_id, attempt, outcome)
        return False
    assert outcome.record is not None
    fields = outcome.record
    try:
        result = _run(fields)
    finally:
        rt.reporter.flush(timeout=10)
        if gate and queue:
            release_slot(queue, run_id)
    placeholder = fields.get("parent_task_run_id")
    if placeholder:
        mirror = outcome_transition(placeholder, 1, result)
        mirror.result_json = None
        mirror.fields = {k: v for k, v in mirror.fields.items() if not k.startswith("result")}
        rt.reporter.transition(mirror, urgent=True)
    return True


def _run(fields: dict[str, str]) -> AttemptResult:
    rt = get_runtime()
    run_id = fields["id"]
    frame = RunFrame(run_id, "flow", run_id)
    try:
        deployment = DeploymentStore(rt.client, rt.store.keys).get(fields["deployment_id"])
        folder, _ = materialize(deployment.source or ".", deployment.source_ref,
                                rt.settings.data_dir)
        flow = load_flow(deployment.entrypoint, str(folder))
        parameters: dict[str, Any] = json.loads(fields.get("parameters") or "{}")
        if flow.validator is not None:
            parameters = flow.validator.validate(parameters)
        args, kwargs = call_arguments(flow.signature, parameters)
    except (ConfigurationError, DeploymentNotFound, ParameterError) as exc:
        failed = AttemptResult(ok=False, error=error_info(exc), exc=exc, retryable=False)
        final = outcome_transition(run_id, 1, failed)
        final.kind = "flow"
        rt.reporter.transition(final, urgent=True)
        return failed
    if flow.is_async:
        return asyncio.run(drive_attempts_async(flow, frame, tuple(args), kwargs,
                                                invoke=flow.invoke_async, store=True))
    return drive_attempts(flow, frame, tuple(args), kwargs, invoke=flow.invoke, store=True)
