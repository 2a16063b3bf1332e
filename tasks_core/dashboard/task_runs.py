"""``/task-runs``: the newest task runs with filters (state, name, tag, time), counts per
state and live updates; ``/task-runs/{id}``: one task run (facts, what started it, history,
parameters, result, error, logs), its live region reloaded on task-run events."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from tasks_core.dashboard.flow_runs import PAGE_SIZE, _state, _where
from tasks_core.dashboard.run_detail import run_context
from tasks_core.dashboard.templating import NAV, page
from tasks_core.process_runtime import get_runtime
from tasks_core.run_queries import find_runs
from tasks_core.run_tree import SUBFLOW_PREFIX
from tasks_core.states import StateName
from tasks_core.times import parse_since

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
NAV.append(("Task runs", "/task-runs"))


@router.get("/task-runs", response_class=HTMLResponse)
def task_runs(
    request: Request,
    state: str | None = Query(None, max_length=40),
    name: str | None = Query(None, max_length=1000),
    tag: str | None = Query(None, max_length=200),
    since: str | None = Query(None, max_length=100),
    offset: int = Query(0, ge=0, le=100_000),
    partial: bool = False,
) -> HTMLResponse:
    """The page (or with ``partial``, only its table: what live updates fetch). A bad state
    or time is a 422 naming it."""
    now = datetime.now(UTC)
    wanted = _state(state)
    after = parse_since(since, now) if since else None
    rt = get_runtime()
    found, capped = find_runs(rt.store, kind="task", state=wanted, name=name or None,
                              since=after, limit=offset + PAGE_SIZE + 1,
                              where=_where(None, tag or None))
    runs = found[offset:offset + PAGE_SIZE]
    more = len(found) > offset + PAGE_SIZE
    counts = rt.indexes.state_counts("task", [s.value for s in StateName])
    filters = {"state": state or "", "name": name or "", "tag": tag or "",
               "since": since or ""}
    return page(request, "task_runs_table.html" if partial else "task_runs.html",
                runs=runs, counts=counts, capped=capped, filters=filters, offset=offset,
                next_offset=offset + PAGE_SIZE if more else None, states=list(StateName),
                now=now)


@router.get("/task-runs/{run_id}", response_class=HTMLResponse, response_model=None)
def task_run(request: Request, run_id: str = Path(..., max_length=200), partial: bool = False,
             ) -> HTMLResponse | RedirectResponse:
    """One task run's page (with ``partial``, only the live region). A flow run's id is
    sent to its own page; an unknown id is a 404 naming it."""
    now = datetime.now(UTC)
    rt = get_runtime()
    record = rt.store.get(run_id)
    if record.kind != "task":
        return RedirectResponse(f"/flow-runs/{record.id}", status.HTTP_303_SEE_OTHER)
    context = run_context(rt, record, now)
    nested = []
    if record.task_key.startswith(SUBFLOW_PREFIX) or record.task_key.startswith("deployment:"):
        nested = [r for r in rt.store.get_many(rt.store.children(record.id)) if r.kind == "flow"]
    return page(request, "run_facts.html" if partial else "task_run.html", nested=nested,
                **context)
