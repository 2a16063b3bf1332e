"""``/flow-runs/{id}``: one flow run with what started it, its state history, parameters,
result, logs (polled while it runs) and the timeline of its run tree.

The timeline is drawn in the browser (``static/timeline.js``) from the run tree embedded in
the page as JSON (`tasks_core.run_tree.tree_json`); ``/flow-runs/{id}/tree`` returns the
same JSON, which the page fetches again while the run goes on. ``?partial=1`` returns only
the facts and history (the live region, reloaded on flow-run events).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tasks_core.dashboard.run_detail import run_context
from tasks_core.dashboard.templating import page
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.run_tree import TREE_LIMIT, gather_tree, tree_json

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_ID = Path(..., max_length=200, description="the flow run's id")


def _tree(record: RunRecord, now: datetime) -> tuple[dict[str, Any], bool]:
    rt = get_runtime()
    tree, capped = gather_tree(rt.store, rt.indexes, record)
    return tree_json(tree, now), capped


@router.get("/flow-runs/{run_id}", response_class=HTMLResponse, response_model=None)
def flow_run(request: Request, run_id: str = _ID, partial: bool = False,
             ) -> HTMLResponse | RedirectResponse:
    """The page (with ``partial``, only the live region). A task run's id is sent to its
    own page; an unknown id is a 404 naming it."""
    now = datetime.now(UTC)
    rt = get_runtime()
    record = rt.store.get(run_id)
    if record.kind != "flow":
        return RedirectResponse(f"/task-runs/{record.id}", status.HTTP_303_SEE_OTHER)
    context = run_context(rt, record, now)
    if partial:
        return page(request, "run_facts.html", **context)
    tree, capped = _tree(record, now)
    return page(request, "flow_run.html", tree={"now": now.isoformat(), "root": tree},
                capped=capped, tree_limit=TREE_LIMIT, **context)


@router.get("/flow-runs/{run_id}/tree", response_model=None)
def flow_run_tree(run_id: str = _ID) -> Response:
    """The run tree as JSON: ``{"now": ISO time, "root": node, "capped": bool}`` with nodes
    as `tasks_core.run_tree.tree_json` gives them."""
    now = datetime.now(UTC)
    tree, capped = _tree(get_runtime().store.get(run_id), now)
    return Response(json.dumps({"now": now.isoformat(), "root": tree, "capped": capped}),
                    media_type="application/json")
