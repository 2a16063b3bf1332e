"""The HTTP API over artifacts, through a real `tasks-core server` process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tasks_core.artifacts import create_markdown_artifact
from tests.integration import artifact_tasks

pytestmark = pytest.mark.usefixtures("tc_env")


def test_listing_versions_one_artifact_and_a_runs_artifacts(start_server: Any) -> None:
    server = start_server()
    table_id, link_id, report_id = artifact_tasks.artifact_flow()
    newer = artifact_tasks.report(2)
    create_markdown_artifact("unkeyed, outside a run")

    listed = httpx.get(f"{server.url}/api/artifacts").json()
    assert [(a["key"], a["id"]) for a in listed] == [("daily-report", newer),
                                                     ("cities", table_id)]
    versions = httpx.get(f"{server.url}/api/artifacts", params={"key": "daily-report"}).json()
    assert [a["id"] for a in versions] == [newer, report_id]
    bad = httpx.get(f"{server.url}/api/artifacts", params={"key": "Daily Report"})
    assert bad.status_code == 422 and "lower-case letters" in bad.json()["detail"]

    link = httpx.get(f"{server.url}/api/artifacts/{link_id}").json()
    assert link["type"] == "link" and link["data"]["link"] == "https://example.com/data.csv"
    missing = httpx.get(f"{server.url}/api/artifacts/nope")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]

    flow_run_id = link["flow_run_id"]
    of_flow = httpx.get(f"{server.url}/api/flow_runs/{flow_run_id}/artifacts").json()
    assert [a["id"] for a in of_flow] == [table_id, link_id, report_id]
    task_run_id = of_flow[2]["task_run_id"]
    of_task = httpx.get(f"{server.url}/api/task_runs/{task_run_id}/artifacts").json()
    assert [a["id"] for a in of_task] == [report_id]
    wrong = httpx.get(f"{server.url}/api/flow_runs/{task_run_id}/artifacts")
    assert wrong.status_code == 404 and "is a task run" in wrong.json()["detail"]
