"""What the flow-run and task-run routes share: listing with filters and paging, reading
one run of a kind, its logs, cancelling it and setting its state.

Listings come from `tasks_core.run_queries.find_runs` (the CLI's `ls`): newest first,
``offset`` runs skipped, at most ``limit`` returned; ``next_offset`` is where the next page
starts (None on the last page). A filtered listing examines at most
`run_queries.SCAN_LIMIT` runs; ``capped`` says when it stopped there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from tasks_core.errors import InvalidTransition, RunNotFound
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.run_queries import find_runs
from tasks_core.states import StateName

__all__ = ["CancelReply", "CancelRequest", "RunPage", "SetStateRequest", "cancel",
           "list_page", "logs_of", "make_router", "read_run", "set_state"]

MAX_PAGE = 1000
"""Most runs one page holds."""


class RunPage(BaseModel):
    """One page of a run listing, newest first."""

    items: list[RunRecord]
    offset: int
    limit: int
    next_offset: int | None = Field(description="where the next page starts; None: last page")
    capped: bool = Field(default=False, description="a filtered scan stopped at its limit")


class CancelRequest(BaseModel):
    """How to cancel: ``force`` also kills the worker process running it (prefork pool)."""

    force: bool = False
    reason: str = Field(default="cancelled through the HTTP API", max_length=1000)


class CancelReply(BaseModel):
    """The run's state once the cancel is recorded: Cancelled, Cancelling, or the final
    state it had already reached."""

    id: str
    state: StateName


class SetStateRequest(BaseModel):
    """A state to move a run to; only what the state machine allows is applied."""

    state: StateName
    message: str = Field(default="", max_length=10_000)


def list_page(kind: Literal["flow", "task"], *, state: StateName | None, name: str | None,
              since: datetime | None, deployment_id: str | None, limit: int,
              offset: int) -> RunPage:
    """A page of runs of `kind`, newest first (filters as `find_runs`'s)."""
    where = None if deployment_id is None else (
        lambda record: record.deployment_id == deployment_id)
    found, capped = find_runs(get_runtime().store, kind=kind, state=state, name=name,
                              since=since, limit=offset + limit + 1, where=where)
    items = found[offset:offset + limit]
    more = len(found) > offset + limit
    return RunPage(items=items, offset=offset, limit=limit,
                   next_offset=offset + limit if more else None, capped=capped)


def read_run(kind: Literal["flow", "task"], run_id: str) -> RunRecord:
    """The run `run_id`, which must be of `kind`.

    Raises:
        RunNotFound: no such run, or it is of the other kind (the message says so).
    """
    record = get_runtime().store.get(run_id)
    if record.kind != kind:
        raise RunNotFound(f"run {run_id!r} is a {record.kind} run, not a {kind} run "
                          f"(see /api/{record.kind}_runs/{run_id})")
    return record


def logs_of(kind: Literal["flow", "task"], run_id: str) -> list[dict[str, Any]]:
    """The run's log entries, oldest first (objects: timestamp, level, logger, message)."""
    read_run(kind, run_id)
    rt = get_runtime()
    rt.reporter.flush()
    return [entry if isinstance(entry, dict) else {"message": str(entry)}
            for entry in rt.store.logs(run_id)]


def cancel(kind: Literal["flow", "task"], run_id: str, request: CancelRequest) -> CancelReply:
    """Cancel the run and every run started inside it (`engine.cancel.cancel_run`)."""
    from tasks_core.engine.cancel import cancel_run

    read_run(kind, run_id)
    state = cancel_run(run_id, force=request.force, reason=request.reason)
    return CancelReply(id=run_id, state=state)


def set_state(kind: Literal["flow", "task"], run_id: str, request: SetStateRequest,
              ) -> RunRecord:
    """Move the run to ``request.state`` through the store's checked transition.

    Raises:
        InvalidTransition: the state machine refuses it (409; the run's state named).
    """
    from tasks_core.store.runs import Transition

    read_run(kind, run_id)
    rt = get_runtime()
    message = request.message or "set through the HTTP API"
    outcome = rt.reporter.apply_now([Transition(run_id, request.state, kind=kind,
                                                message=message)])[0]
    if outcome.missing:
        raise RunNotFound(f"run {run_id!r} no longer exists")
    if not outcome.applied:
        raise InvalidTransition(f"run {run_id} is {outcome.state}; the state machine refuses "
                                f"{outcome.state} -> {request.state.value}")
    return rt.store.get(run_id)


def make_router(kind: Literal["flow", "task"]) -> APIRouter:
    """The routes of ``/api/<kind>_runs``: list, read, logs, cancel, set state."""
    router = APIRouter(prefix=f"/{kind}_runs", tags=[f"{kind} runs"])

    @router.get("", response_model=RunPage, operation_id=f"list_{kind}_runs",
                description=f"The newest {kind} runs matching the filters, newest first.")
    def list_route(
        state: StateName | None = Query(None, description="only runs now in this state"),
        name: str | None = Query(None, max_length=1000,
                                 description="only runs of this name (a glob: 'etl*')"),
        since: datetime | None = Query(None, description="only runs created since (ISO 8601)"),
        deployment_id: str | None = Query(None, max_length=200,
                                          description="only runs of this deployment"),
        limit: int = Query(100, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0, le=100_000),
    ) -> Response:
        page = list_page(kind, state=state, name=name, since=since,
                         deployment_id=deployment_id, limit=limit, offset=offset)
        # already a RunPage: serialized once by pydantic-core, not validated again by FastAPI
        # (that second pass was a third of a 100-run page's time; bench/api.py)
        return Response(page.model_dump_json(), media_type="application/json")

    @router.get("/{run_id}", response_model=RunRecord, operation_id=f"read_{kind}_run",
                description=f"One {kind} run's record (404 when there is none).")
    def read_route(run_id: str) -> RunRecord:
        return read_run(kind, run_id)

    @router.get("/{run_id}/logs", operation_id=f"read_{kind}_run_logs",
                description=f"The {kind} run's log entries, oldest first.")
    def logs_route(run_id: str) -> list[dict[str, Any]]:
        return logs_of(kind, run_id)

    @router.post("/{run_id}/cancel", response_model=CancelReply,
                 operation_id=f"cancel_{kind}_run",
                 description=f"Cancel the {kind} run and every run started inside it.")
    def cancel_route(run_id: str, request: CancelRequest | None = None) -> CancelReply:
        return cancel(kind, run_id, request or CancelRequest())

    @router.post("/{run_id}/set_state", response_model=RunRecord,
                 operation_id=f"set_{kind}_run_state",
                 description=f"Move the {kind} run to a state the state machine allows "
                             "(409 otherwise).")
    def set_state_route(run_id: str, request: SetStateRequest) -> RunRecord:
        return set_state(kind, run_id, request)

    return router
