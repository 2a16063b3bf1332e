"""The run pages' pure parts: time in each state, results cut for display, and the
"started by" line of `run_facts.html` rendered from records (links, escaping)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks_core.dashboard.run_detail import history_rows, json_text, result_text
from tasks_core.dashboard.templating import templates
from tasks_core.records import RunRecord, StateEntry, TriggeredBy
from tasks_core.states import StateName, StateType, state_type

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def entry(name: StateName, seconds: float) -> StateEntry:
    return StateEntry(name=name, type=state_type(name), timestamp=T0 + timedelta(seconds=seconds))


def record(**fields: Any) -> RunRecord:
    values: dict[str, Any] = {"id": "run-1", "kind": "flow", "name": "etl",
                              "state": StateName.RUNNING, "state_type": StateType.RUNNING,
                              "created": T0, "start_time": T0}
    return RunRecord(**{**values, **fields})


def test_history_rows_time_in_each_state() -> None:
    now = T0 + timedelta(seconds=10)
    running = history_rows([entry(StateName.PENDING, 0), entry(StateName.RUNNING, 2)], now)
    assert [(r.seconds, r.current) for r in running] == [(2.0, False), (8.0, True)]
    ended = history_rows([entry(StateName.RUNNING, 0), entry(StateName.COMPLETED, 3)], now)
    assert [(r.seconds, r.current) for r in ended] == [(3.0, False), (None, False)]
    assert history_rows([], now) == []


def test_result_text_indents_and_cuts() -> None:
    assert result_text(None) == (None, False)
    assert result_text('{"a":1}') == ('{\n  "a": 1\n}', False)
    assert result_text("not json{") == ("not json{", False)
    big = json.dumps(["x" * 100] * 100)
    text, cut = result_text(big, limit=500)
    assert cut and text is not None and len(text) == 500
    assert json_text({"when": T0}) == json.dumps({"when": str(T0)}, indent=2)


def _facts(run: RunRecord, **context: Any) -> str:
    values = {"run": run, "duration": 1.0, "running": False, "deployment": None,
              "from_schedule": False, "history": [], "terminal": run.is_terminal, **context}
    return templates.get_template("run_facts.html").render(values)


def test_started_by_an_automation_on_an_event_links_both_and_escapes_names() -> None:
    by = TriggeredBy(automation_id="a1", automation_name="<b>nightly</b>", event_id="ev-1",
                     event="shop.order.<placed>")
    html = _facts(record(triggered_by=by))
    assert 'href="/automations/%3Cb%3Enightly%3C/b%3E"' in html
    assert "&lt;b&gt;nightly&lt;/b&gt;" in html and "<b>" not in html
    assert 'href="/events/ev-1"' in html and "shop.order.&lt;placed&gt;" in html


def test_started_by_a_parent_a_schedule_a_deployment_or_a_direct_call() -> None:
    parent = _facts(record(parent_flow_run_id="parent-run", parent_task_run_id="place"))
    assert 'parent flow run <a href="/flow-runs/parent-run">' in parent
    assert 'href="/task-runs/place"' in parent
    scheduled = _facts(record(deployment_id="dep-1", scheduled_time=T0), from_schedule=True)
    assert "a schedule of deployment" in scheduled and 'href="/deployments/dep-1"' in scheduled
    deployed = _facts(record(deployment_id="dep-1"))
    assert "deployment <a" in deployed and "schedule" not in deployed
    assert "a direct call" in _facts(record())
