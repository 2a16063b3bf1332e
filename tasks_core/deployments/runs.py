"""Runs of deployments: `run_deployment(...)` and the scheduler's runs.

`run_deployment` checks the parameters before a run exists (size and depth limits, then
pydantic validation against the deployment's stored parameter schema), records the flow run
and its message together, and waits for it to end with a pushed wait (no polling). Called
inside a flow, the new run is a subflow of the caller, with a placeholder task run in the
parent. Called inside a worker of the same pool, the waiting process runs the child itself
if nothing else has claimed it, so a pool busy with waiting parents cannot deadlock.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, model_validator

from tasks_core.child_runner import child_runner, run_children_with
from tasks_core.deployment_models import Deployment
from tasks_core.deployments.define import deployment_store
from tasks_core.engine import new_runs
from tasks_core.engine.codec import to_json
from tasks_core.engine.context import current_run
from tasks_core.engine.parameters import encode_checked, given_parameters
from tasks_core.engine.results import decode_result
from tasks_core.engine.schema_model import check_parameters
from tasks_core.engine.sending import run_envelope, send_new
from tasks_core.errors import ResultError, ValidationError
from tasks_core.job_variables import env_of, with_env
from tasks_core.pool_names import pool_name_error
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord, TriggeredBy
from tasks_core.retention import idempotency_ttl
from tasks_core.scheduling import schedule_key
from tasks_core.states import State, StateName

__all__ = ["FlowRunResult", "create_scheduled_run", "create_triggered_run", "run_children_with",
           "run_deployment"]


def _as_state(value: Any) -> State:
    return value if isinstance(value, State) else State(value)


class FlowRunResult(RunRecord):
    """The flow run `run_deployment` returns: its record, and its value via `result()`.

    `state` is a `State` (Prefect's ``flow_run.state``: ``.is_completed()``, ``.name``,
    ``.message``, ``.result()``), still equal to its `StateName`."""

    state: Annotated[State, PlainValidator(_as_state),  # type: ignore[assignment]
                     PlainSerializer(str, return_type=str)]

    @model_validator(mode="after")
    def _full_state(self) -> FlowRunResult:
        from tasks_core.futures import state_of

        self.__dict__["state"] = state_of(self)  # with its message and time
        return self

    def result(self) -> Any:
        """The flow's stored result (Completed), else the run's error raised."""
        if self.state in (StateName.COMPLETED, StateName.CACHED):
            text = get_runtime().store.result_json(self.id)
            if text is None:
                raise ResultError(f"flow run {self.id} has no stored result (expired?)")
            return decode_result(text)
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
    job_variables: dict[str, Any] | None = None,
) -> FlowRunResult:
    """Create a run of a deployment and wait until it ends or `timeout` seconds pass.

    `name` is ``flow-name/deployment-name`` or the deployment id. Parameters are merged over
    the deployment's defaults and checked before a run exists, as every path checks them:
    at most `parameters_max_bytes` of JSON and `parameters_max_depth` levels, then validated
    by pydantic against the flow's parameter schema (`1.5` is not an `int`, `[1, 2]` is not
    a `list[str]`). ``timeout=0`` returns at once; ``None`` waits until the run ends.
    `poll_interval` is accepted for compatibility: waiting is pushed, not polled.
    ``job_variables={"env": {...}}``: environment variables of this run, over the
    deployment's (`tasks_core.job_variables`).

    Raises:
        DeploymentNotFound: no such deployment (close names suggested).
        ValidationError: `work_queue_name` is not a name a worker can serve.
        ParameterError: a parameter is unknown, missing, mistyped, too large or too deep;
            the message names each one.
    """
    rt = get_runtime()
    queue_error = (pool_name_error(str(work_queue_name), what="work_queue_name")
                   if work_queue_name else None)  # '' or None: the pool's own queue
    if queue_error is not None:  # no worker could serve it: the run would stay Pending
        raise ValidationError(f"run_deployment({name!r}): {queue_error}")
    deployment = deployment_store().get(name)
    env = env_of(f"run_deployment({name!r})", job_variables)
    if env:  # this run's environment over the deployment's (tasks_core.job_variables)
        deployment = deployment.model_copy(
            update={"run_options": with_env(deployment.run_options, env)})
    merged = {**deployment.parameters,
              **given_parameters(f"run_deployment({name!r})", parameters)}
    params_json = encode_parameters(deployment, merged)
    run_id = _existing_run(deployment, idempotency_key)
    if run_id is None:
        run_id, _ = _create_run(deployment, params_json, scheduled_time, flow_run_name, tags,
                                idempotency_key, work_queue_name, as_subflow)
    if timeout != 0:
        _wait(run_id, deployment, timeout)
    rt.reporter.flush()
    return FlowRunResult.model_validate(rt.store.get(run_id).model_dump())


def encode_parameters(deployment: Deployment, parameters: dict[str, Any]) -> str:
    """The parameters of a run of `deployment`, checked and encoded (JSON text)."""
    settings = get_runtime().settings
    text = encode_checked(parameters, owner=f"deployment {deployment.full_name!r}",
                          max_bytes=settings.parameters_max_bytes,
                          max_depth=settings.parameters_max_depth)
    # what the worker will get: the JSON (a model, enum or dataclass instance is checked
    # as the object it becomes, against a model rebuilt from the schema, not the user's)
    check_parameters(deployment.parameter_schema, json.loads(text), deployment.full_name)
    return text


def _existing_run(deployment: Deployment, key: str | None) -> str | None:
    if key is None:
        return None
    return get_runtime().idempotency.get(deployment.id, key)


def _create_run(
    deployment: Deployment, params_json: str, scheduled_time: datetime | None,
    flow_run_name: str | None, tags: list[str] | None, idempotency_key: str | None,
    work_queue_name: str | None, as_subflow: bool, from_schedule: bool = False,
    triggered_by: TriggeredBy | None = None,
) -> tuple[str, bool]:
    """Record a run of a deployment and send it (now or when due); (run id, whether this
    call created it)."""
    rt = get_runtime()
    parent = current_run.get() if as_subflow else None
    run_id = str(uuid.uuid4())
    if idempotency_key is not None:
        holder = rt.idempotency.claim(
            deployment.id, idempotency_key, run_id,
            idempotency_ttl(rt.settings, datetime.now(UTC), scheduled_time))
        if holder is not None:
            return holder, False
    placeholder_id = None
    if parent is not None:
        placeholder = new_runs.placeholder_run(parent, deployment.flow_name,
                                               f"deployment:{deployment.id}", params_json, [],
                                               rt.owner)
        rt.store.create(placeholder)
        placeholder_id = placeholder.id
    later = scheduled_time is not None and scheduled_time > datetime.now(UTC)
    run = new_runs.deployment_run(
        deployment, params_json, state=StateName.SCHEDULED if later else StateName.PENDING,
        queue=(f"{deployment.work_pool_name}:{work_queue_name}" if work_queue_name
               else deployment.queue), tags=tags or [], scheduled_time=scheduled_time,
        flow_run_name=flow_run_name, parent=parent, placeholder_id=placeholder_id,
        run_id=run_id, triggered_by=triggered_by)
    if later:  # beat sends it when due (the durable due set, not a message held in memory)
        index = rt.store.keys.deployment_scheduled(deployment.id) if from_schedule else None
        rt.store.create(run, due=scheduled_time, due_index=index)
    else:
        send_new(rt, run, run_envelope(run, 1))
    return run.id, True


def create_scheduled_run(deployment: Deployment, when: datetime) -> tuple[str, bool]:
    """The run of a deployment's scheduled time, created once; (run id, created now)."""
    key = schedule_key(when.isoformat())
    existing = _existing_run(deployment, key)
    if existing is not None:
        return existing, False
    params_json = to_json(deployment.parameters)  # checked when it was deployed
    return _create_run(deployment, params_json, when, None, None, key, None,
                       as_subflow=False, from_schedule=True)


def create_triggered_run(
    deployment: Deployment, parameters: dict[str, Any] | None, *, idempotency_key: str,
    triggered_by: TriggeredBy, scheduled_time: datetime | None = None,
) -> tuple[str, bool]:
    """The run an automation's action starts, created once per `idempotency_key` (the
    firing id and action index): (run id, created now). Parameters are merged over the
    deployment's defaults and checked as `run_deployment` checks them; the run records
    `triggered_by`, relates the automation, and its first event follows the trigger's.

    Raises:
        ParameterError: as `run_deployment`.
    """
    merged = {**deployment.parameters,
              **given_parameters(f"deployment {deployment.full_name}", parameters)}
    params_json = encode_parameters(deployment, merged)
    existing = _existing_run(deployment, idempotency_key)
    if existing is not None:
        return existing, False
    return _create_run(deployment, params_json, scheduled_time, None, None, idempotency_key,
                       None, as_subflow=False, triggered_by=triggered_by)


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
        runner = child_runner() if helping else None
        if runner is not None and rt.store.state_of(run_id) == StateName.PENDING:
            runner(run_id)  # the claim is atomic: one runner only
