"""The HTTP API over flow runs and task runs, through a real `tasks-core server` process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration import sample_flows, sample_tasks

pytestmark = pytest.mark.usefixtures("tc_env")


def test_flow_runs_list_read_logs_and_pages(start_server: Any) -> None:
    server = start_server()
    runs = [sample_flows.loud_flow(f"hello {i}", return_state=True) for i in range(3)]
    ids = [state.run_id for state in runs]

    page = httpx.get(f"{server.url}/api/flow_runs", params={"limit": 2}).json()
    assert [item["id"] for item in page["items"]] == ids[::-1][:2]  # newest first
    assert page["next_offset"] == 2 and page["capped"] is False
    rest = httpx.get(f"{server.url}/api/flow_runs",
                     params={"limit": 2, "offset": page["next_offset"]}).json()
    assert [item["id"] for item in rest["items"]] == [ids[0]] and rest["next_offset"] is None

    only = httpx.get(f"{server.url}/api/flow_runs",
                     params={"state": "Completed", "name": "loud*"}).json()
    assert {item["id"] for item in only["items"]} == set(ids)
    none = httpx.get(f"{server.url}/api/flow_runs", params={"name": "nothing*"}).json()
    assert none["items"] == []

    record = httpx.get(f"{server.url}/api/flow_runs/{ids[0]}").json()
    assert record["state"] == "Completed" and record["parameters"] == {"message": "hello 0"}
    logs = httpx.get(f"{server.url}/api/flow_runs/{ids[0]}/logs").json()
    assert any(entry["message"] == "flow says hello 0" for entry in logs), logs


def test_task_runs_and_the_wrong_kind(start_server: Any, start_worker: Any) -> None:
    server = start_server()
    start_worker(concurrency=1)
    future = sample_tasks.add.delay(2, 3)
    assert future.result(timeout=30) == 5
    run_id = future.id
    listed = httpx.get(f"{server.url}/api/task_runs", params={"name": "add"}).json()
    assert [item["id"] for item in listed["items"]] == [run_id]
    assert httpx.get(f"{server.url}/api/task_runs/{run_id}").json()["state"] == "Completed"
    wrong = httpx.get(f"{server.url}/api/flow_runs/{run_id}")
    assert wrong.status_code == 404 and "is a task run" in wrong.json()["detail"]


def test_missing_runs_and_bad_filters_are_clear_errors(start_server: Any) -> None:
    server = start_server()
    missing = httpx.get(f"{server.url}/api/flow_runs/no-such-run")
    assert missing.status_code == 404 and "no-such-run" in missing.json()["detail"]
    bad_state = httpx.get(f"{server.url}/api/flow_runs", params={"state": "Sleeping"})
    assert bad_state.status_code == 422
    bad_limit = httpx.get(f"{server.url}/api/flow_runs", params={"limit": 0})
    assert bad_limit.status_code == 422


def test_cancel_and_set_state(start_server: Any) -> None:
    from tasks_core.process_runtime import get_runtime

    server = start_server()
    scheduled = sample_tasks.add.apply_async((1, 1), countdown=3600)  # waits in Scheduled
    reply = httpx.post(f"{server.url}/api/task_runs/{scheduled.id}/cancel")
    assert reply.status_code == 200 and reply.json() == {"id": scheduled.id,
                                                         "state": "Cancelled"}
    assert get_runtime().store.get(scheduled.id).state.value == "Cancelled"

    refused = httpx.post(f"{server.url}/api/task_runs/{scheduled.id}/set_state",
                         json={"state": "Running"})
    assert refused.status_code == 409 and "Cancelled -> Running" in refused.json()["detail"]

    later = sample_tasks.add.apply_async((1, 1), countdown=3600)
    moved = httpx.post(f"{server.url}/api/task_runs/{later.id}/set_state",
                       json={"state": "Cancelled", "message": "not needed"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "Cancelled" and moved.json()["state_message"] == "not needed"


def test_api_key_is_required_when_set(start_server: Any) -> None:
    server = start_server(api_key="s3cret-key")
    assert httpx.get(f"{server.url}/api/health").status_code == 200  # health is open
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-key"}):
        reply = httpx.get(f"{server.url}/api/flow_runs", headers=headers)
        assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer"
    ok = httpx.get(f"{server.url}/api/flow_runs",
                   headers={"Authorization": "Bearer s3cret-key"})
    assert ok.status_code == 200


def test_non_loopback_needs_an_api_key(start_server: Any) -> None:
    server = start_server(wait=False, host="0.0.0.0")
    assert server.proc.wait(30) == 1
    assert "without an API key" in server.output() and "TASKS_CORE_API_KEY" in server.output()
    keyed = start_server(host="0.0.0.0", api_key="k")
    keyed_local = keyed.url.replace("0.0.0.0", "127.0.0.1")
    assert httpx.get(f"{keyed_local}/api/flow_runs",
                     headers={"Authorization": "Bearer k"}).status_code == 200


def test_openapi_describes_every_route(start_server: Any) -> None:
    server = start_server()
    spec: dict[str, Any] = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/api/flow_runs", "/api/flow_runs/{run_id}/set_state",
            "/api/task_runs/{run_id}/logs"} <= set(spec["paths"])
    assert httpx.get(f"{server.url}/docs").status_code == 200
