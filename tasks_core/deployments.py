"""Deployments: `flow.deploy(...)` and `run_deployment(...)`.

A deployment names a flow by entrypoint and source, with default parameters, a work pool
(a Celery queue) and schedules. `run_deployment` validates parameters against the stored
schema before a run exists, records the flow run and its message together, and waits for
it to end with a pushed wait (no polling). Called inside a flow, the new run is a subflow
of the caller; called inside a worker of the same pool, the waiting process runs the child
itself if nothing else has claimed it, so a pool busy with waiting parents cannot deadlock.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tasks_core.celery_app import EXECUTE_FLOW
from tasks_core.deployment_models import Deployment, slugify
from tasks_core.dispatch import Envelope
from tasks_core.engine.entrypoints import entrypoint_of
from tasks_core.engine.flow_run import placeholder_run
from tasks_core.engine.schema_check import check_parameters
from tasks_core.engine.sources import is_git
from tasks_core.engine.task_run import current_run
from tasks_core.errors import ConfigurationError, ResultError
from tasks_core.events.schema import run_related
from tasks_core.records import RunRecord
from tasks_core.runtime import get_runtime
from tasks_core.schedules import validate_schedules
from tasks_core.scheduling import reschedule, schedule_key
from tasks_core.states import StateName
from tasks_core.store.deployments import DeploymentStore
from tasks_core.store.runs import NewRun, utcnow

if TYPE_CHECKING:
    from tasks_core.flow import Flow

__all__ = ["FlowRunResult", "build_deployment", "deploy", "deployment_store", "run_deployment",
           "serve", "validate_schedules"]


def deployment_store() -> DeploymentStore:
    """The deployment store of this process's runtime."""
    rt = get_runtime()
    return DeploymentStore(rt.client, rt.store.keys)


def build_deployment(
    flow: Flow[Any, Any],
    name: str,
    *,
    entrypoint: str | None = None,
    source: str | None = None,
    source_ref: str | None = None,
    work_pool_name: str | None = None,
    work_queue_name: str | None = None,
    parameters: dict[str, Any] | None = None,
    cron: str | None = None,
    interval: float | timedelta | None = None,
    rrule: str | None = None,
    schedules: list[dict[str, Any]] | None = None,
    timezone: str | None = None,
    tags: list[str] | None = None,
    triggers: list[Any] | None = None,
    paused: bool = False,
    catchup: Literal["skip", "latest", "all"] = "latest",
    description: str | None = None,
    version: str | None = None,
) -> Deployment:
    """A validated deployment of `flow` (default parameters checked against its signature)."""
    git = source is not None and is_git(source)
    root = Path(source).resolve() if source and not git else Path.cwd()
    defaults = dict(parameters or {})
    if flow.validator is not None:
        known = {k: v for k, v in defaults.items()}
        flow.validator.validate_partial(known)
    return Deployment(
        name=name, flow_name=flow.name,
        entrypoint=entrypoint or entrypoint_of(flow.fn, root),
        source=source if git else str(root), source_ref=source_ref, parameters=defaults,
        parameter_schema=flow.validator.model.model_json_schema() if flow.validator else {},
        work_pool_name=work_pool_name or get_runtime().settings.default_pool,
        work_queue_name=work_queue_name,
        schedules=validate_schedules(cron, interval, rrule, schedules, timezone),
        paused=paused, catchup=catchup, tags=sorted(set(tags or [])),
        description=description or flow.description,
        version=version or flow.version,
        triggers=[t.model_dump(mode="json") if hasattr(t, "model_dump") else dict(t)
                  for t in triggers or []],
    )


class FlowRunResult(RunRecord):
    """The flow run `run_deployment` returns: its record, and its value via `result()`."""

    def result(self) -> Any:
        """The flow's JSON result (Completed), else the run's error raised."""
        if self.state in (StateName.COMPLETED, StateName.CACHED):
            text = get_runtime().store.result_json(self.id)
            if text is None:
                raise ResultError(f"flow run {self.id} has no stored result (expired?)")
            return json.loads(text)
        from tasks_core.futures import run_exception

        raise run_exception(self)


def run_deployment(
    name: str,
    parameters: dict[str, Any] | None = None,
    scheduled_time: datetime | None = None,
    flow_run_name: str | None = None,
    timeout: float | None = None,
    poll_interval: float | None = None,
    tags: list[str] | None = None,
    idempotency_key: str | None = None,
    work_queue_name: str | None = None,
    as_subflow: bool = True,
) -> FlowRunResult:
    """Create a run of a deployment and wait until it ends or `timeout` seconds pass.

    `name` is ``flow-name/deployment-name`` or the deployment id. Parameters are merged over
    the deployment's defaults and validated before a run exists. ``timeout=0`` returns at
    once; ``None`` waits until the run ends. `poll_interval` is accepted for compatibility:
    waiting is pushed, not polled.
    """
    rt = get_runtime()
    deployment = deployment_store().get(name)
    merged = {**deployment.parameters, **(parameters or {})}
    check_parameters(deployment.parameter_schema, merged, deployment.full_name)
    run_id = _existing_run(deployment, idempotency_key)
    if run_id is None:
        run_id, _ = _create_run(deployment, merged, scheduled_time, flow_run_name, tags,
                                idempotency_key, work_queue_name, as_subflow)
    if timeout != 0:
        _wait(run_id, deployment, timeout)
    rt.reporter.flush()
    return FlowRunResult.model_validate(rt.store.get(run_id).model_dump())


def _existing_run(deployment: Deployment, key: str | None) -> str | None:
    if key is None:
        return None
    rt = get_runtime()
    value = rt.client.get(rt.store.keys.idempotency(deployment.id, key))
    return None if value is None else str(value)


def _create_run(
    deployment: Deployment, parameters: dict[str, Any], scheduled_time: datetime | None,
    flow_run_name: str | None, tags: list[str] | None, idempotency_key: str | None,
    work_queue_name: str | None, as_subflow: bool, from_schedule: bool = False,
) -> tuple[str, bool]:
    """Record a run of a deployment; (run id, whether this call created it)."""
    rt = get_runtime()
    parent = current_run.get() if as_subflow else None
    parent_flow = parent.flow_run_id if parent else None
    placeholder_id = ""
    if parent is not None:
        placeholder = placeholder_run(
            parent, deployment.flow_name, f"deployment:{deployment.id}",
            {"parameters": json.dumps(parameters), "tags": "[]", "attempt": "1",
             "start_time": utcnow().isoformat()}, [])
        rt.store.create(placeholder)
        placeholder_id = placeholder.id
    queue = (f"{deployment.work_pool_name}:{work_queue_name}" if work_queue_name
             else deployment.queue)
    later = scheduled_time is not None and scheduled_time > datetime.now(UTC)
    run = NewRun(
        id=str(uuid.uuid4()), kind="flow",
        state=StateName.SCHEDULED if later else StateName.PENDING,
        fields={"name": deployment.flow_name, "parameters": json.dumps(parameters),
                "tags": json.dumps(sorted(set(deployment.tags) | set(tags or []))),
                "deployment_id": deployment.id, "queue": queue, "attempt": "0",
                "flow_run_name": flow_run_name or "",
                "scheduled_time": scheduled_time.isoformat() if scheduled_time else "",
                "parent_flow_run_id": parent_flow or "", "parent_task_run_id": placeholder_id},
        related=[*run_related(task_name=deployment.flow_name, kind="flow",
                              parent_flow_run_id=parent_flow, tags=deployment.tags),
                 {"tasks-core.resource.id": f"tasks-core.deployment.{deployment.id}",
                  "tasks-core.resource.role": "deployment"}])
    if idempotency_key is not None:
        key = rt.store.keys.idempotency(deployment.id, idempotency_key)
        if not rt.client.set(key, run.id, nx=True, ex=rt.settings.run_ttl_seconds):
            return str(rt.client.get(key)), False
    if later:  # beat sends it when due (the durable due set, not a message held in memory)
        index = rt.store.keys.deployment_scheduled(deployment.id) if from_schedule else None
        rt.store.create(run, due=scheduled_time, due_index=index)
        return run.id, True
    envelope = Envelope(message_id=run.id, args=[run.id, 1], queue=queue,
                        shadow=deployment.full_name, argsrepr=json.dumps(parameters)[:256],
                        task=EXECUTE_FLOW)
    push = rt.dispatcher.push_for(envelope)
    rt.store.create(run, push)
    if push is None:
        rt.dispatcher.publish(envelope)
    return run.id, True


def create_scheduled_run(deployment: Deployment, when: datetime) -> tuple[str, bool]:
    """The run of a deployment's scheduled time, created once; (run id, created now)."""
    key = schedule_key(when.isoformat())
    existing = _existing_run(deployment, key)
    if existing is not None:
        return existing, False
    return _create_run(deployment, dict(deployment.parameters), when, None, None, key, None,
                       as_subflow=False, from_schedule=True)


def _wait(run_id: str, deployment: Deployment, timeout: float | None) -> None:
    """Wait for the run; inside a worker serving its pool, run it here if still unclaimed."""
    rt = get_runtime()
    deadline = None if timeout is None else time.monotonic() + timeout
    helping = deployment.queue in rt.serving_queues and current_run.get() is not None
    step = 0.2 if helping else None
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        wait_for = left if step is None else (step if left is None else min(step, left))
        if rt.store.wait(run_id, wait_for):
            return
        if deadline is not None and time.monotonic() >= deadline:
            return
        if helping and rt.store.state_of(run_id) == StateName.PENDING:
            from tasks_core.engine.deployed_run import execute_flow_run

            execute_flow_run(run_id, 1, gate=False)  # the claim is atomic: one runner only


def deploy_flow(flow: Flow[Any, Any], name: str, **options: Any) -> str:
    """Register (create or update) a deployment of `flow`; its id."""
    return deploy(build_deployment(flow, slugify(name), **options))[0]


def set_paused(name: str, paused: bool) -> Deployment:
    """Pause (or resume) a deployment. Pausing cancels the scheduled runs it has queued;
    resuming lets beat create runs again from now."""
    store = deployment_store()
    deployment = store.save(store.get(name).model_copy(
        update={"paused": paused, "updated": datetime.now(UTC)}))
    reschedule(deployment)
    return deployment


def delete_deployment(name: str) -> Deployment:
    """Delete a deployment and cancel the scheduled runs it has queued (past runs stay)."""
    deployment = deployment_store().delete(name)
    reschedule(deployment, deleted=True)
    return deployment


def deploy(*deployments: Deployment) -> list[str]:
    """Register deployments built with `flow.to_deployment(...)`; their ids.

    Redeploying with other schedules cancels the runs the old schedules had queued.
    """
    store = deployment_store()
    ids = []
    for deployment in deployments:
        previous = store.find(deployment.full_name)
        saved = store.save(deployment)
        if (previous is None or previous.schedules != saved.schedules
                or previous.paused != saved.paused):
            reschedule(saved)
        ids.append(saved.id)
    return ids


def serve(*deployments: Deployment, stop: threading.Event | None = None) -> None:
    """Register deployments, then run a worker for their pools and a beat (for schedules)
    as subprocesses of this process until interrupted (or `stop` is set).

    Raises ConfigurationError when one of them exits on its own (the other is stopped).
    """
    from tasks_core.supervisor import (
        ChildSpec,
        cli_command,
        describe_exit,
        run_stack,
        stop_on_signals,
    )

    deploy(*deployments)
    pools = sorted({d.work_pool_name for d in deployments})
    specs = [ChildSpec("worker", cli_command("worker", *(a for p in pools for a in ("--pool", p)))),
             ChildSpec("beat", cli_command("beat"))]
    names = ", ".join(d.full_name for d in deployments)
    print(f"Serving {names} on work pool(s) {', '.join(pools)}; Ctrl-C stops.")
    force = threading.Event()
    if stop is not None:  # stopped by the caller (any thread)
        _, died = run_stack(specs, stop=stop, force=force)
    else:
        stop = threading.Event()
        with stop_on_signals(stop, force):
            _, died = run_stack(specs, stop=stop, force=force)
    if died is not None:
        raise ConfigurationError(f"serve: {died.name} exited unexpectedly with "
                                 f"{describe_exit(died.proc.returncode)}; see its output above")
