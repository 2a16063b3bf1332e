"""``/flow-runs``: the newest flow runs with filters (state, flow, deployment, tag, time),
counts per state, and live updates (the table reloads when a flow run changes state)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tasks_core.dashboard.templating import NAV, page
from tasks_core.errors import ValidationError
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.run_queries import find_runs
from tasks_core.states import StateName
from tasks_core.times import parse_since

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
NAV.append(("Flow runs", "/flow-runs"))

PAGE_SIZE = 100


def _where(deployment: str | None, tag: str | None) -> Callable[[RunRecord], bool] | None:
    def where(record: RunRecord) -> bool:
        return ((deployment is None or record.deployment_id == deployment)
                and (tag is None or tag in record.tags))
    return None if deployment is None and tag is None else where


def _state(value: str | None) -> StateName | None:
    if not value:
        return None
    try:
        return StateName(value)
    except ValueError:
        valid = ", ".join(s.value for s in StateName)
        raise ValidationError(f"unknown state {value!r}; valid states: {valid}") from None


@router.get("/flow-runs", response_class=HTMLResponse)
def flow_runs(
    request: Request,
    state: str | None = Query(None, max_length=40),
    flow: str | None = Query(None, max_length=1000),
    deployment: str | None = Query(None, max_length=200),
    tag: str | None = Query(None, max_length=200),
    since: str | None = Query(None, max_length=100),
    offset: int = Query(0, ge=0, le=100_000),
    partial: bool = False,
) -> HTMLResponse:
    """The page (or with ``partial``, only its table: what live updates fetch)."""
    now = datetime.now(UTC)
    wanted = _state(state)
    after = parse_since(since, now) if since else None
    rt = get_runtime()
    found, capped = find_runs(rt.store, kind="flow", state=wanted, name=flow or None,
                              since=after, limit=offset + PAGE_SIZE + 1,
                              where=_where(deployment or None, tag or None))
    runs = found[offset:offset + PAGE_SIZE]
    more = len(found) > offset + PAGE_SIZE
    counts = rt.indexes.state_counts("flow", [s.value for s in StateName])
    filters = {"state": state or "", "flow": flow or "", "deployment": deployment or "",
               "tag": tag or "", "since": since or ""}
    return page(request, "flow_runs_table.html" if partial else "flow_runs.html",
                runs=runs, counts=counts, capped=capped, filters=filters, offset=offset,
                next_offset=offset + PAGE_SIZE if more else None, states=list(StateName),
                now=now)
