"""``/deployments``: every deployment (schedules, paused, work pool, its last runs as coloured
marks) and ``/deployments/{id}``: parameters, schema, schedules, Pause/Resume, upcoming and
recent runs, a Run form generated from the stored parameter schema
(``static/deployments.js``) and the Triggers section (automations that run it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from tasks_core.api.deployments import by_id, list_deployments
from tasks_core.automations import Automation, list_automations
from tasks_core.dashboard.templating import NAV, page
from tasks_core.deployment_models import Deployment
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.run_queries import find_runs
from tasks_core.states import StateName

__all__ = ["last_runs", "router", "runs_of", "schedule_text", "triggers_of"]

router = APIRouter(include_in_schema=False)
NAV.append(("Deployments", "/deployments"))

LAST_RUNS = 10
"""Runs shown as marks per deployment in the list."""
RECENT_RUNS = 20
"""Recent and upcoming runs shown on a deployment's page (each)."""


def schedule_text(schedule: dict[str, Any]) -> str:
    """One stored schedule in a few words: ``cron 0 * * * * (UTC)``, ``every 3600 s``,
    ``rrule ...``; ``[inactive]`` appended when it is switched off."""
    zone = f" ({schedule['timezone']})" if schedule.get("timezone") else ""
    if "cron" in schedule:
        text = f"cron {schedule['cron']}{zone}"
    elif "interval" in schedule:
        text = f"every {float(schedule['interval']):g} s"
    elif "rrule" in schedule:
        text = f"rrule {schedule['rrule']}{zone}"
    else:
        text = ", ".join(f"{k}={v}" for k, v in sorted(schedule.items()))
    return text if schedule.get("active", True) else f"{text} [inactive]"


def runs_of(deployment_id: str, *, limit: int,
            state: StateName | None = None) -> list[RunRecord]:
    """The newest flow runs of a deployment (in `state` when given), at most `limit`."""
    found, _ = find_runs(get_runtime().store, kind="flow", state=state, name=None,
                         limit=limit, where=lambda r: r.deployment_id == deployment_id)
    return found


def last_runs(deployment_ids: list[str], *, per: int) -> dict[str, list[RunRecord]]:
    """Deployment id -> its newest flow runs (at most `per`, newest first), from one scan of
    the newest flow runs (`find_runs`: at most its SCAN_LIMIT records read, whatever the
    number of deployments)."""
    found: dict[str, list[RunRecord]] = {i: [] for i in deployment_ids}

    def wanted(record: RunRecord) -> bool:  # find_runs calls it once per record
        runs = found.get(record.deployment_id or "")
        if runs is None or len(runs) >= per:
            return False
        runs.append(record)
        return True

    find_runs(get_runtime().store, kind="flow", state=None, name=None,
              limit=max(per * len(deployment_ids), 1), where=wanted)
    return found


def _runs_it(automation: Automation, deployment: Deployment) -> bool:
    return any(getattr(action, "type", "") == "run-deployment"
               and (getattr(action, "deployment_id", None) == deployment.id
                    or getattr(action, "deployment_name", None) == deployment.full_name)
               for action in automation.actions)


def triggers_of(deployment: Deployment,
                automations: list[Automation] | None = None) -> list[Automation]:
    """Automations the deployment owns (made from its ``triggers``) and those with a
    RunDeployment action naming it (by id or ``flow/name``), by name."""
    every = list_automations() if automations is None else automations
    return [a for a in every
            if a.owner_deployment_id == deployment.id or _runs_it(a, deployment)]


@router.get("/deployments", response_class=HTMLResponse)
def deployments(request: Request) -> HTMLResponse:
    """Every deployment, by ``flow/name``, with its last `LAST_RUNS` runs."""
    every = list_deployments()
    last = last_runs([d.id for d in every], per=LAST_RUNS)
    rows = [(d, last[d.id]) for d in every]
    return page(request, "deployments.html", rows=rows, schedule_text=schedule_text)


@router.get("/deployments/{deployment_id}", response_class=HTMLResponse)
def deployment(request: Request, deployment_id: str = Path(min_length=1, max_length=200),
               partial: bool = False) -> HTMLResponse:
    """One deployment's page (with ``partial``: only its live region, the runs and the
    pause state). 404 when there is no such deployment."""
    found = by_id(deployment_id)
    context = {
        "d": found, "now": datetime.now(UTC), "schedule_text": schedule_text,
        "upcoming": sorted(runs_of(found.id, limit=RECENT_RUNS, state=StateName.SCHEDULED),
                           key=lambda r: r.scheduled_time or r.created),
        "recent": runs_of(found.id, limit=RECENT_RUNS),
        "triggers": triggers_of(found),
    }
    return page(request, "deployment_live.html" if partial else "deployment.html", **context)
