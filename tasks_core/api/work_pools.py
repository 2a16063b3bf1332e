"""`/api/work_pools`: list, read, create, pause, resume, set the concurrency limit.

Pools are read through the runtime's `WorkPoolStore` and changed through
`tasks_core.work_pools`, so the API pauses, resumes and limits exactly as the Python API
and the CLI do: ``tasks-core.work-pool.paused`` / ``.resumed`` are emitted, and resuming
(or raising the limit) sends the parked flow runs again. Replies are the SDK's `WorkPool`
record with the pool's running and parked flow runs added (the fields of
``tasks-core work-pool ls --json`` / ``inspect --json``); every field the record gains
appears in them too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tasks_core.deployment_models import WorkPool
from tasks_core.errors import WorkPoolNotFound
from tasks_core.pool_names import pool_name_error
from tasks_core.process_runtime import get_runtime
from tasks_core.store.work_pools import WorkPoolStore

__all__ = ["ConcurrencyRequest", "CreateRequest", "ResumeReply", "WorkPoolDetail",
           "WorkPoolSummary", "detail", "router", "summaries"]

router = APIRouter(prefix="/work_pools", tags=["work pools"])

SHOW_IDS = 1000
"""Most running / parked run ids a pool's detail lists (the counts are always whole)."""

_HINT = "GET /api/work_pools lists them; POST /api/work_pools creates one"


class WorkPoolSummary(WorkPool):
    """A work pool's record and how many of its flow runs hold a slot or wait (parked)."""

    running_count: int = Field(description="flow runs of the pool running now")
    parked_count: int = Field(description="flow runs waiting: the pool is paused or full")


class WorkPoolDetail(WorkPoolSummary):
    """A work pool with the ids of its running and parked flow runs (at most `SHOW_IDS`
    each; parked oldest first)."""

    running: list[str]
    parked: list[str]


class ResumeReply(WorkPoolDetail):
    """The resumed pool, and the parked flow runs sent to its workers again."""

    sent_again: list[str]


class CreateRequest(BaseModel):
    """A new work pool (its name is also its Celery queue)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="ASCII letters, digits, '-', '_', '.', starting with a "
                                  "letter or digit; at most 100 characters")
    concurrency_limit: int | None = Field(
        default=None, ge=1, strict=True,
        description="most flow runs of the pool running at once (null: no limit)")
    description: str | None = Field(default=None, max_length=10_000,
                                    description="what the pool is for")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        error = pool_name_error(value)  # the check of `work-pool create` and `worker --pool`
        if error is not None:
            raise ValueError(error)
        return value


class ConcurrencyRequest(BaseModel):
    """The pool's new concurrency limit: an integer >= 1, or null for no limit."""

    model_config = ConfigDict(extra="forbid")

    concurrency_limit: int | None = Field(
        ge=1, strict=True, description="most flow runs of the pool running at once (null: "
                                       "no limit)")


# -- reading ------------------------------------------------------------------------------


def _store() -> WorkPoolStore:
    return get_runtime().pools


def _get(name: str) -> WorkPool:
    try:
        return _store().get(name)
    except WorkPoolNotFound:
        raise WorkPoolNotFound(f"work pool {name!r} not found ({_HINT})") from None


def summaries() -> list[WorkPoolSummary]:
    """Every pool (by name) with its running and parked counts, in two round trips."""
    store = _store()
    pools = store.list_pools()
    counts = store.counts([p.name for p in pools])
    return [WorkPoolSummary.model_validate({**p.model_dump(), "running_count": running,
                                            "parked_count": parked})
            for p, (running, parked) in zip(pools, counts, strict=True)]


def detail(pool: WorkPool) -> WorkPoolDetail:
    """`pool` with its running and parked flow runs (ids and counts)."""
    store = _store()
    (running_count, parked_count), = store.counts([pool.name])
    return WorkPoolDetail.model_validate({
        **pool.model_dump(), "running_count": running_count, "parked_count": parked_count,
        "running": store.running(pool.name)[:SHOW_IDS],
        "parked": store.parked(pool.name, limit=SHOW_IDS)})


def pool_path(name: Annotated[str, Path(min_length=1, max_length=200,
                                        description="the work pool's name")]) -> WorkPool:
    """FastAPI dependency: the pool of the path's name (404 saying how to list them)."""
    return _get(name)


_found = Depends(pool_path)


# -- routes -------------------------------------------------------------------------------


@router.get("", response_model=list[WorkPoolSummary], operation_id="list_work_pools",
            description="Every work pool, by name, with its running and parked flow run "
                        "counts.")
def list_route() -> list[WorkPoolSummary]:
    return summaries()


@router.get("/{name}", response_model=WorkPoolDetail, operation_id="read_work_pool",
            description="One work pool with the ids of its running and parked flow runs.")
def read_route(pool: WorkPool = _found) -> WorkPoolDetail:
    return detail(pool)


@router.post("", response_model=WorkPoolDetail, status_code=status.HTTP_201_CREATED,
             operation_id="create_work_pool",
             responses={409: {"description": "a pool of that name exists"}},
             description="Create a work pool (`tasks-core worker --pool NAME` serves it).")
def create_route(request: CreateRequest) -> WorkPoolDetail:
    from tasks_core.work_pools import create_pool

    if request.name in _store().names():
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"work pool {request.name!r} already exists (change it "
                                   f"with PUT /api/work_pools/{request.name}/concurrency_limit"
                                   ", or pause / resume it)")
    return detail(create_pool(request.name, concurrency_limit=request.concurrency_limit,
                              description=request.description))


@router.post("/{name}/pause", response_model=WorkPoolDetail, operation_id="pause_work_pool",
             description="Pause the pool: its workers start no new flow runs; they wait, "
                         "parked, and none is lost. Emits tasks-core.work-pool.paused (not "
                         "when it was paused already).")
def pause_route(pool: WorkPool = _found) -> WorkPoolDetail:
    from tasks_core.work_pools import pause_pool

    return detail(pool if pool.paused else pause_pool(pool.name))


@router.post("/{name}/resume", response_model=ResumeReply, operation_id="resume_work_pool",
             description="Resume the pool and send its parked flow runs again (sent_again). "
                         "Emits tasks-core.work-pool.resumed (not when it was not paused).")
def resume_route(pool: WorkPool = _found) -> ResumeReply:
    from tasks_core.work_pools import resume_pool

    sent = resume_pool(pool.name) if pool.paused else []
    return ResumeReply.model_validate({**detail(_get(pool.name)).model_dump(),
                                       "sent_again": sent})


@router.put("/{name}/concurrency_limit", response_model=WorkPoolDetail,
            operation_id="set_work_pool_concurrency_limit",
            description="Cap the pool's running flow runs (null removes the cap); runs "
                        "waiting for a slot may start now.")
def concurrency_route(request: ConcurrencyRequest, pool: WorkPool = _found) -> WorkPoolDetail:
    from tasks_core.work_pools import set_concurrency

    return detail(set_concurrency(pool.name, request.concurrency_limit))
