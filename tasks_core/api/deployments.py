"""`/api/deployments`: list (filters), read, create a flow run, pause, resume, delete.

A deployment is addressed two ways, as in Prefect's API: by id (``/api/deployments/{id}``,
a whole id or any unique start of one) or by name
(``/api/deployments/name/{flow_name}/{deployment_name}``); every action exists in both
forms. Replies are the SDK's `Deployment` record (`tasks_core.deployment_models`). A run
is created by `run_deployment(..., timeout=0)`, so its parameters are checked exactly as
the Python API and the CLI check them, and the request never waits for the run. Pause,
resume and delete go through `tasks_core.deployments` (events, scheduled runs
cancelled). A deployment's flow runs are listed by ``/api/flow_runs?deployment_id=``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from tasks_core.deployment_models import Deployment
from tasks_core.errors import DeploymentNotFound
from tasks_core.pool_names import pool_name_error
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord

__all__ = ["RunRequest", "by_id", "by_name", "create_run", "delete", "list_deployments",
           "router", "set_paused"]

router = APIRouter(prefix="/deployments", tags=["deployments"])

MAX_DELAY_SECONDS = 10 * 366 * 86_400
"""Latest a run may be scheduled by ``schedule_after`` (about ten years)."""

_LIST_HINT = "GET /api/deployments lists them"

Tag = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RunRequest(BaseModel):
    """A flow run of a deployment to create. Every field is optional: ``{}`` runs it now
    with the deployment's default parameters."""

    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="parameters over the deployment's defaults, checked against the flow's "
                    "signature (a wrong one is a 422 naming it)")
    scheduled_time: AwareDatetime | None = Field(
        default=None, description="when to start it (ISO 8601 with a UTC offset); a time "
                                  "not in the future starts it now")
    schedule_after: float | None = Field(
        default=None, ge=0, le=MAX_DELAY_SECONDS,
        description="start it this many seconds from now (instead of scheduled_time)")
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="the same key on the same deployment returns the run it created "
                    "first (200 instead of 201), for as long as runs are kept")
    tags: list[Tag] | None = Field(default=None, max_length=50,
                                   description="tags of the run")
    work_queue_name: str | None = Field(
        default=None, description="a work queue of the deployment's pool to send it to "
                                  "(default: the deployment's)")
    flow_run_name: str | None = Field(default=None, min_length=1, max_length=200,
                                      description="the run's name (default: generated)")

    @field_validator("scheduled_time")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        try:
            return None if value is None else value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+05:00 has no UTC time
            raise ValueError("scheduled_time is out of range once in UTC") from None

    @model_validator(mode="after")
    def _check(self) -> RunRequest:
        if self.scheduled_time is not None and self.schedule_after is not None:
            raise ValueError("give scheduled_time or schedule_after, not both")
        if self.work_queue_name is not None:
            error = pool_name_error(self.work_queue_name, what="work_queue_name")
            if error is not None:
                raise ValueError(error)
        return self

    def start_at(self, now: datetime) -> datetime | None:
        """When the run should start (None: now), `now` being the current UTC time."""
        if self.schedule_after is not None:
            return now + timedelta(seconds=self.schedule_after)
        return self.scheduled_time


# -- reading ------------------------------------------------------------------------------


def _get(name_or_id: str) -> Deployment:
    """The deployment; DeploymentNotFound saying how to list them."""
    try:
        return get_runtime().deployments.get(name_or_id)
    except DeploymentNotFound as exc:
        raise DeploymentNotFound(f"{exc}; {_LIST_HINT}") from None


def by_id(deployment_id: Annotated[str, Path(
        min_length=1, max_length=200,
        description="a deployment id, or any unique start of one")]) -> Deployment:
    """FastAPI dependency: the deployment of the path's id (404 when none; 422 when the
    start of an id fits several)."""
    return _get(deployment_id)


def by_name(
    flow_name: Annotated[str, Path(min_length=1, max_length=200,
                                   description="the flow's name, e.g. 'etl'")],
    deployment_name: Annotated[str, Path(min_length=1, max_length=200,
                                         description="the deployment's name, e.g. 'nightly'")],
) -> Deployment:
    """FastAPI dependency: the deployment named ``flow_name/deployment_name`` (404 when
    none, with close names)."""
    return _get(f"{flow_name}/{deployment_name}")


def list_deployments(*, flow_name: str | None = None, paused: bool | None = None,
                     tag: str | None = None, work_pool: str | None = None) -> list[Deployment]:
    """Every deployment that passes all given filters, by ``flow/name``."""
    return [d for d in get_runtime().deployments.list()
            if (flow_name is None or fnmatchcase(d.flow_name, flow_name))
            and (paused is None or d.paused == paused)
            and (tag is None or tag in d.tags)
            and (work_pool is None or d.work_pool_name == work_pool)]


@router.get("", response_model=list[Deployment], operation_id="list_deployments",
            description="Every deployment matching the filters, by flow/name.")
def list_route(
    flow_name: str | None = Query(None, max_length=200,
                                  description="only deployments of flows matching this glob "
                                              "('etl*')"),
    paused: bool | None = Query(None, description="only paused (true) or active (false) ones"),
    tag: str | None = Query(None, max_length=200, description="only those with this tag"),
    work_pool: str | None = Query(None, max_length=200,
                                  description="only those running on this work pool"),
) -> list[Deployment]:
    return list_deployments(flow_name=flow_name, paused=paused, tag=tag, work_pool=work_pool)


# -- actions ------------------------------------------------------------------------------


def create_run(deployment: Deployment, request: RunRequest) -> tuple[RunRecord, bool]:
    """Create a flow run of `deployment` (never waits for it): (its record, whether this
    call created it; False when ``idempotency_key`` names an earlier run).

    Raises:
        ParameterError: a parameter is unknown, missing, mistyped, too large or too deep
            (422, naming each).
    """
    from tasks_core.deployments import run_deployment

    rt = get_runtime()
    key = request.idempotency_key
    earlier = None if key is None else rt.idempotency.get(deployment.id, key)
    run = run_deployment(deployment.id, request.parameters,
                         scheduled_time=request.start_at(datetime.now(UTC)),
                         flow_run_name=request.flow_run_name, timeout=0, tags=request.tags,
                         idempotency_key=key, work_queue_name=request.work_queue_name,
                         as_subflow=False)
    return RunRecord.model_validate(run.model_dump()), run.id != earlier


def set_paused(deployment: Deployment, paused: bool) -> Deployment:
    """Pause or resume `deployment` (`tasks_core.deployments.set_paused`: the event, its
    queued scheduled runs); returned unchanged, with no event, when it already is so."""
    if deployment.paused == paused:
        return deployment
    from tasks_core.deployments import set_paused as set_deployment_paused

    return set_deployment_paused(deployment.id, paused)


def delete(deployment: Deployment) -> Deployment:
    """Delete `deployment`, cancel its queued scheduled runs and the automations it owns
    (`tasks_core.deployments.delete_deployment`); the deleted record.

    Raises:
        DeploymentNotFound: it was deleted meanwhile.
    """
    from tasks_core.deployments import delete_deployment

    return delete_deployment(deployment.id)


def _add_routes(path: str, lookup: Callable[..., Deployment], suffix: str, what: str) -> None:
    """The read and action routes of one way to address a deployment."""
    found = Depends(lookup)

    @router.get(path, response_model=Deployment, operation_id=f"read_deployment{suffix}",
                description=f"The deployment {what} (404 when there is none).")
    def read_route(deployment: Deployment = found) -> Deployment:
        return deployment

    @router.post(f"{path}/runs", response_model=RunRecord, status_code=status.HTTP_201_CREATED,
                 operation_id=f"create_deployment_run{suffix}",
                 responses={200: {"description": "the run an earlier request with the same "
                                                 "idempotency_key created"}},
                 description=f"Create a flow run of the deployment {what}: Pending (sent to "
                             "its work pool now) or Scheduled. Never waits for it; follow it "
                             "at /api/flow_runs/{id}.")
    def run_route(response: Response, request: RunRequest | None = None,
                  deployment: Deployment = found) -> RunRecord:
        run, created = create_run(deployment, request or RunRequest())
        if not created:
            response.status_code = status.HTTP_200_OK
        return run

    @router.post(f"{path}/pause", response_model=Deployment,
                 operation_id=f"pause_deployment{suffix}",
                 description=f"Pause the deployment {what}: schedules and triggers skip it, "
                             "its queued scheduled runs are cancelled (runs created through "
                             "the API still run). Emits tasks-core.deployment.paused.")
    def pause_route(deployment: Deployment = found) -> Deployment:
        return set_paused(deployment, True)

    @router.post(f"{path}/resume", response_model=Deployment,
                 operation_id=f"resume_deployment{suffix}",
                 description=f"Resume the deployment {what}: its schedules run again from "
                             "now. Emits tasks-core.deployment.resumed.")
    def resume_route(deployment: Deployment = found) -> Deployment:
        return set_paused(deployment, False)

    @router.delete(path, response_model=Deployment, operation_id=f"delete_deployment{suffix}",
                   description=f"Delete the deployment {what} and cancel its queued "
                               "scheduled runs (past flow runs stay); the deleted record. "
                               "Emits tasks-core.deployment.deleted.")
    def delete_route(deployment: Deployment = found) -> Deployment:
        return delete(deployment)


# the three-segment name routes first: an id never holds a '/', so neither form shadows
# the other
_add_routes("/name/{flow_name}/{deployment_name}", by_name, "_by_name",
            "named flow_name/deployment_name")
_add_routes("/{deployment_id}", by_id, "", "of this id")
