"""What the flow-run and task-run pages share: a run's facts, why it exists, its
parameters and result as text, and its state history with the time spent in each state.

Pure apart from `run_context`, which reads the result, the deployment and the schedule's
idempotency key through the runtime's stores.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tasks_core.dashboard.artifacts import artifact_views
from tasks_core.deployment_models import Deployment
from tasks_core.process_runtime import Runtime
from tasks_core.records import RunRecord, StateEntry
from tasks_core.run_tree import run_duration
from tasks_core.scheduling import schedule_key
from tasks_core.states import is_terminal

__all__ = ["RESULT_MAX_CHARS", "HistoryRow", "history_rows", "json_text", "result_text",
           "run_context"]

RESULT_MAX_CHARS = 4_000
"""Most characters of a stored result a page shows (the rest is cut, with a note)."""


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One state of a run's history; `seconds` spent in it (None: terminal, the last)."""

    entry: StateEntry
    seconds: float | None
    current: bool


def history_rows(history: list[StateEntry], now: datetime) -> list[HistoryRow]:
    """Time spent in each state: until the next one; the last until `now` unless terminal."""
    rows = []
    for i, entry in enumerate(history):
        if i + 1 < len(history):
            seconds: float | None = (history[i + 1].timestamp - entry.timestamp).total_seconds()
            current = False
        else:
            current = not is_terminal(entry.name)
            seconds = (now - entry.timestamp).total_seconds() if current else None
        rows.append(HistoryRow(entry, seconds, current))
    return rows


def json_text(value: Any) -> str:
    """`value` as indented JSON text (a value with no JSON form as its ``str``)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def result_text(stored: str | None, limit: int = RESULT_MAX_CHARS) -> tuple[str | None, bool]:
    """A stored JSON result as text to show (indented when it parses), cut to `limit`
    characters; and whether it was cut. None when there is no stored result."""
    if stored is None:
        return None, False
    text = stored
    if len(stored) <= 4 * limit:  # pretty-print only what is cheap to parse
        with contextlib.suppress(ValueError):
            text = json_text(json.loads(stored))
    return (text[:limit], True) if len(text) > limit else (text, False)


def _from_schedule(rt: Runtime, record: RunRecord) -> bool:
    """Whether beat created the run for a schedule of its deployment (the schedule's
    idempotency key for the run's scheduled time names this run)."""
    if record.deployment_id is None or record.scheduled_time is None:
        return False
    key = schedule_key(record.scheduled_time.isoformat())
    return rt.idempotency.get(record.deployment_id, key) == record.id


def run_context(rt: Runtime, record: RunRecord, now: datetime) -> dict[str, Any]:
    """What a run page's template needs besides the record: ``duration`` and ``running``,
    ``deployment`` (None when unknown or deleted), ``from_schedule``, ``parameters`` and
    ``result`` as text, ``result_cut``, ``history`` (`HistoryRow` list), ``terminal``,
    ``artifacts`` (`tasks_core.dashboard.artifacts.ArtifactView` list, oldest first)."""
    seconds, running = run_duration(record, now)
    deployment: Deployment | None = None
    if record.deployment_id:
        deployment = rt.deployments.get_many([record.deployment_id]).get(record.deployment_id)
    result, cut = result_text(rt.store.result_json(record.id))
    return {"run": record, "duration": seconds, "running": running, "deployment": deployment,
            "from_schedule": _from_schedule(rt, record),
            "parameters": json_text(record.parameters), "result": result, "result_cut": cut,
            "result_max": RESULT_MAX_CHARS, "history": history_rows(record.history, now),
            "terminal": record.is_terminal, "now": now,
            "artifacts": artifact_views(rt.artifacts.of_run(record.id))}
