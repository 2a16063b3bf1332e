"""Celery-style beat_schedule entries run by `tasks-core beat` (real beat and worker
processes), and the entries -> deployments sync (real Redis)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from celery.schedules import crontab

from tasks_core import StateName
from tasks_core.errors import ConfigurationError, DeploymentNotFound
from tasks_core.periodic.entries import parse_entries
from tasks_core.periodic.sync import sync_beat_schedule
from tasks_core.process_runtime import get_runtime
from tests.helpers import wait_until

S = StateName


def _runs_of(deployment_name: str) -> tuple[list[Any], list[Any]]:
    """(flow runs of the deployment, task runs inside them)."""
    rt = get_runtime()
    deployment = rt.deployments.get(deployment_name)
    store = rt.store
    flows = [r for r in store.get_many(store.list_ids("flow", limit=1000))
             if r.deployment_id == deployment.id]
    ids = {r.id for r in flows}
    tasks = [r for r in store.get_many(store.list_ids("task", limit=1000))
             if r.parent_flow_run_id in ids]
    return flows, tasks


def _completed_tasks(deployment_name: str, count: int) -> Any:
    def check() -> Any:
        try:
            flows, tasks = _runs_of(deployment_name)
        except DeploymentNotFound:
            return None
        done = [t for t in tasks if t.state == S.COMPLETED]
        return (flows, done) if len(done) >= count else None
    return check


def test_settings_entry_runs_its_task_every_second_exactly_once(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    entry = {"add-every-second": {"task": "tests.integration.sample_tasks.add",
                                  "schedule": 1, "args": [2, 3]}}
    start_worker(concurrency=2)
    start_beat(beat_schedule=json.dumps(entry))
    flows, done = wait_until(_completed_tasks("beat-schedule/add-every-second", 3),
                             timeout=30, message="3 scheduled add runs completed")
    assert {t.name for t in done} == {"add"}
    assert {json.dumps(t.parameters, sort_keys=True) for t in done} == {'{"x": 2, "y": 3}'}
    times = [f.scheduled_time for f in flows]
    assert len(times) == len(set(times))  # each due time has one flow run
    parents = [t.parent_flow_run_id for t in done]
    assert len(parents) == len(set(parents))  # and each flow run one task run
    assert get_runtime().store.result_json(done[0].id) == "5"


def test_app_conf_entry_read_through_import(tc_env: dict[str, Any], start_worker: Any,
                                            start_beat: Any) -> None:
    start_worker(concurrency=2)
    start_beat("--import", "tests.integration.beat_schedule_conf")
    _, done = wait_until(_completed_tasks("beat-schedule/add-from-conf", 2), timeout=30,
                         message="2 runs of the app.conf entry completed")
    assert {get_runtime().store.result_json(t.id) for t in done} == {"11"}


def test_sync_is_idempotent_and_removes_dropped_entries(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    entries = parse_entries({
        "every-ten": {"task": "proj.add", "schedule": 10.0, "args": [1, 2]},
        "nightly": {"task": "proj.report", "schedule": crontab(minute=0, hour=3),
                    "options": {"queue": "reports"}},
    }, "app.conf")
    sync_beat_schedule(entries)
    first = {d.name: d for d in rt.deployments.list()}
    assert first["nightly"].schedules[0]["cron"] == "0 3 * * *"
    assert first["nightly"].work_pool_name == "reports"
    assert first["every-ten"].parameters == {"task": "proj.add", "args": [1, 2], "kwargs": {}}
    sync_beat_schedule(entries)  # beat restarted with the same entries
    again = {d.name: d for d in rt.deployments.list()}
    assert {n: (d.id, d.schedules) for n, d in again.items()} == \
        {n: (d.id, d.schedules) for n, d in first.items()}
    sync_beat_schedule(entries, timezone="Europe/Paris")  # Celery's conf.timezone
    assert rt.deployments.get("beat-schedule/nightly").schedules[0]["timezone"] == \
        "Europe/Paris"
    report = sync_beat_schedule(entries[:1])
    assert report.removed == ["beat-schedule/nightly"]
    assert [d.name for d in rt.deployments.list()] == ["every-ten"]


@pytest.mark.parametrize(("raw", "message"), [
    ({"task": "a.b"}, "schedule is missing"),
    ({"task": "a.b", "schedule": -1}, "must be > 0"),
    ({"task": "a.b", "schedule": "every day"}, "not a valid cron string"),
    ({"task": "a.b", "schedule": 5, "options": {"expires": 3}}, "expires not supported"),
    ({"task": "a.b", "schedule": 5, "relative": True}, "relative=True"),
    ({"task": "a.b", "schedule": 5, "args": [object()]}, "add-x"),
])
def test_bad_entries_are_refused_naming_the_entry(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        parse_entries({"add-x": raw}, "settings")
    assert "beat_schedule entry 'add-x' (settings)" in str(info.value)


def test_beat_refuses_to_start_on_a_bad_entry(tc_env: dict[str, Any],
                                                 start_beat: Any) -> None:
    proc = start_beat(beat_schedule=json.dumps({"broken": {"task": "a.b", "schedule": 0}}))
    assert proc.wait(30) != 0


def test_flow_deploy_takes_a_crontab(tc_env: dict[str, Any]) -> None:
    from tests.integration import sample_flows as f

    f.pipeline.deploy("every-five", work_pool_name=tc_env["queue"],
                      cron=crontab(minute="*/5"))
    stored = get_runtime().deployments.get("pipeline/every-five").schedules
    assert stored == [{"cron": "*/5 * * * *", "timezone": "UTC"}]
    with pytest.raises(ConfigurationError, match="no cron form"):
        f.pipeline.deploy("both-days", work_pool_name=tc_env["queue"],
                          cron=crontab(minute=0, day_of_month=1, day_of_week="mon"))
