"""Defining and deploying: `flow.deploy(...)`, `deploy(...)`, pause, resume, delete.

A deployment names a flow by entrypoint and source, with default parameters (checked
against the flow's signature when it is deployed), a work pool (a Celery queue), schedules,
the flow's parameter schema (which `run_deployment` checks runs against) and the flow's
options (its runs carry them). Changing schedules goes through `scheduling.reschedule`.
Its ``triggers`` become automations it owns (`tasks_core.automations.owned`): replaced when
it is deployed again, deleted with it. That module (automation, trigger and action models)
is imported by the calls that need it, so importing deployments or a flow does not load it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tasks_core.deployment_models import Deployment, slugify
from tasks_core.engine.entrypoints import entrypoint_of
from tasks_core.engine.new_runs import run_options
from tasks_core.engine.parameters import given_parameters
from tasks_core.engine.sources import is_git
from tasks_core.errors import ValidationError
from tasks_core.events.internal import deployment_changes, deployment_event
from tasks_core.job_variables import check_no_image, env_of, with_env
from tasks_core.pool_names import pool_name_error
from tasks_core.process_runtime import get_runtime
from tasks_core.schedules import validate_schedules
from tasks_core.scheduling import reschedule
from tasks_core.store.deployments import DeploymentStore

if TYPE_CHECKING:
    from tasks_core.flow import Flow

__all__ = ["build_deployment", "delete_deployment", "deploy", "deploy_flow",
           "deployment_store", "set_paused"]


def deployment_store() -> DeploymentStore:
    """The deployment store of this process's runtime."""
    return get_runtime().deployments


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
    cron: str | Any | None = None,  # a cron string or celery.schedules.crontab(...)
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
    job_variables: dict[str, Any] | None = None,
    image: Any = None,
    build: bool | None = None,
    push: bool | None = None,
) -> Deployment:
    """A validated deployment of `flow` (default parameters checked against its signature;
    `triggers`: ``Deployment*Trigger``s, plain triggers or their JSON, refused with
    TriggerError naming the field; ``job_variables={"env": {...}}``: environment variables
    of its runs, and ``image=`` refused: `tasks_core.job_variables`).

    Raises:
        ValidationError: `work_pool_name` or `work_queue_name` is not a name a worker can
            serve (`tasks_core.pool_names`), named as `work-pool create` names it.
        ParameterError: default `parameters` that do not fit the flow's signature.
    """
    owner = f"deployment {flow.name}/{name}"
    for value, what in ((work_pool_name, "work_pool_name"), (work_queue_name,
                                                            "work_queue_name")):
        # the check of `work-pool create`, `worker --pool` and a deployments file: a name
        # no worker can serve would leave every run of the deployment Pending ('' and None:
        # the default pool, the pool's own queue)
        if value and not isinstance(value, str):
            raise ValidationError(f"{owner}: {what} must be a string, got "
                                  f"{type(value).__name__}")
        error = pool_name_error(value, what=what) if value else None
        if error is not None:
            raise ValidationError(f"{owner}: {error}")
    check_no_image(owner, image, build, push)
    env = env_of(owner, job_variables)
    git = source is not None and is_git(source)
    root = Path(source).resolve() if source and not git else Path.cwd()
    defaults = given_parameters(owner, parameters)
    flow.parameters.check_partial(defaults)
    kept_triggers: list[dict[str, Any]] = []
    if triggers:
        from tasks_core.automations.owned import trigger_json

        kept_triggers = [trigger_json(t) for t in triggers]
    return Deployment(
        name=name, flow_name=flow.name,
        entrypoint=entrypoint or entrypoint_of(flow.fn, root),
        source=source if git else str(root), source_ref=source_ref, parameters=defaults,
        parameter_schema=flow.parameters.schema(),
        run_options=with_env(run_options(flow, None), env),
        flow_run_name=flow.flow_run_name if isinstance(flow.flow_run_name, str) else None,
        work_pool_name=work_pool_name or get_runtime().settings.default_pool,
        work_queue_name=work_queue_name,
        schedules=validate_schedules(cron, interval, rrule, schedules, timezone),
        paused=paused, catchup=catchup, tags=sorted(set(tags or [])),
        description=description or flow.description,
        version=version or flow.version,
        triggers=kept_triggers,
    )


def deploy_flow(flow: Flow[Any, Any], name: str, **options: Any) -> str:
    """Register (create or update) a deployment of `flow`; its id."""
    return deploy(build_deployment(flow, slugify(name), **options))[0]


def set_paused(name: str, paused: bool) -> Deployment:
    """Pause (or resume) a deployment. Pausing cancels the scheduled runs it has queued;
    resuming lets beat create runs again from now. Emits ``tasks-core.deployment.paused``
    (or ``.resumed``)."""
    store = deployment_store()
    deployment = store.save(store.get(name).model_copy(
        update={"paused": paused, "updated": datetime.now(UTC)}))
    reschedule(deployment)
    deployment_event(deployment, "paused" if paused else "resumed")
    return deployment


def delete_deployment(name: str) -> Deployment:
    """Delete a deployment and cancel the scheduled runs it has queued (past runs stay).
    Emits ``tasks-core.deployment.deleted``; deletes the automations it owns."""
    from tasks_core.automations.owned import delete_owned

    deployment = deployment_store().delete(name)
    reschedule(deployment, deleted=True)
    delete_owned(deployment.id)
    deployment_event(deployment, "deleted")
    return deployment


def deploy(*deployments: Deployment) -> list[str]:
    """Register deployments built with `flow.to_deployment(...)`; their ids.

    Redeploying with other schedules cancels the runs the old schedules had queued.
    Each deployment's triggers replace the automations it owns; a trigger that is refused
    or whose automation name another automation holds stops it before it is saved
    (AutomationError). Emits ``tasks-core.deployment.created``, or ``.updated`` naming the
    changed fields (`tasks_core.events.internal`); an identical redeploy emits nothing.
    """
    from tasks_core.automations.owned import check_owned, plan_owned, replace_owned

    store = deployment_store()
    ids = []
    for deployment in deployments:
        previous = store.find(deployment.full_name)
        if previous is not None:  # the id it is saved under: owned automations name it
            deployment = deployment.model_copy(update={"id": previous.id})
        owned = plan_owned(deployment)
        check_owned(deployment.id, owned)
        saved = store.save(deployment)
        if (previous is None or previous.schedules != saved.schedules
                or previous.paused != saved.paused):
            reschedule(saved)
        if previous is None:
            deployment_event(saved, "created")
        elif (changes := deployment_changes(previous, saved))["updated_fields"]:
            deployment_event(saved, "updated", changes)
        replace_owned(saved.id, owned)
        ids.append(saved.id)
    return ids
