"""The HTTP API over deployments, through a real `tasks-core server` process (and a real
worker where a run must actually run)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tasks_core.process_runtime import get_runtime
from tasks_core.run_event_codec import entry_text
from tests.helpers import wait_until
from tests.integration import sample_flows as f

pytestmark = pytest.mark.usefixtures("tc_env")


def _deploy(tc_env: dict[str, Any], name: str = "nightly", **options: Any) -> str:
    return f.pipeline.deploy(name, work_pool_name=tc_env["queue"], **options)


def _events_of(tc_env: dict[str, Any], resource_id: str) -> list[str]:
    """Names of the stream's events about `resource_id`, oldest first."""
    entries = tc_env["client"].xrange(f"{tc_env['prefix']}:events")
    events = [json.loads(entry_text(fields) or "") for _, fields in entries]
    return [e["event"] for e in events if e["resource"]["tasks-core.resource.id"] == resource_id]


def test_list_with_filters_and_read_by_name_or_id(tc_env: dict[str, Any],
                                                  start_server: Any) -> None:
    nightly = _deploy(tc_env, tags=["etl", "daily"])
    f.loud_flow.deploy("shout", work_pool_name="other-pool", paused=True)
    server = start_server()
    url = f"{server.url}/api/deployments"

    def names(**params: str) -> list[str]:
        reply = httpx.get(url, params=params)
        assert reply.status_code == 200, reply.text
        return [f"{d['flow_name']}/{d['name']}" for d in reply.json()]

    assert names() == ["loud-flow/shout", "pipeline/nightly"]
    assert names(flow_name="pipe*") == ["pipeline/nightly"]
    assert names(paused="true") == ["loud-flow/shout"]
    assert names(paused="false") == ["pipeline/nightly"]
    assert names(tag="etl") == ["pipeline/nightly"]
    assert names(work_pool="other-pool") == ["loud-flow/shout"]
    assert names(tag="etl", paused="true") == []
    assert httpx.get(url, params={"paused": "maybe"}).status_code == 422

    by_name = httpx.get(f"{url}/name/pipeline/nightly").json()
    assert by_name["id"] == nightly and by_name["tags"] == ["daily", "etl"]
    assert by_name["parameter_schema"]["required"] == ["lat"]
    assert httpx.get(f"{url}/{nightly}").json()["name"] == "nightly"
    assert httpx.get(f"{url}/{nightly[:8]}").json()["id"] == nightly  # a unique start

    missing = httpx.get(f"{url}/name/pipeline/nightli")
    assert missing.status_code == 404
    assert "did you mean 'pipeline/nightly'" in missing.json()["detail"]
    assert "GET /api/deployments lists them" in missing.json()["detail"]
    unknown_id = httpx.get(f"{url}/no-such-id")
    assert unknown_id.status_code == 404 and "'no-such-id'" in unknown_id.json()["detail"]


def test_a_run_created_over_http_runs_on_a_worker(tc_env: dict[str, Any], start_server: Any,
                                                  start_worker: Any) -> None:
    deployment_id = _deploy(tc_env, parameters={"lon": 5})
    server = start_server()
    start_worker(concurrency=1, pool=tc_env["queue"])
    reply = httpx.post(f"{server.url}/api/deployments/name/pipeline/nightly/runs",
                       json={"parameters": {"lat": 2}, "tags": ["from-api"]})
    assert reply.status_code == 201, reply.text
    run = reply.json()
    assert run["kind"] == "flow" and run["deployment_id"] == deployment_id
    assert run["parameters"] == {"lon": 5, "lat": 2} and "from-api" in run["tags"]
    store = get_runtime().store
    assert store.wait(run["id"], 30)
    assert store.get(run["id"]).state.value == "Completed"
    listed = httpx.get(f"{server.url}/api/flow_runs",
                       params={"deployment_id": deployment_id}).json()
    assert [item["id"] for item in listed["items"]] == [run["id"]]
    assert listed["items"][0]["state"] == "Completed"

    by_id = httpx.post(f"{server.url}/api/deployments/{deployment_id}/runs",
                       json={"parameters": {"lat": 1.5}})
    assert by_id.status_code == 201, by_id.text
    assert store.wait(by_id.json()["id"], 30)
    assert store.get(by_id.json()["id"]).state.value == "Completed"


def test_wrong_parameters_and_unknown_deployments_create_nothing(tc_env: dict[str, Any],
                                                                 start_server: Any) -> None:
    deployment_id = _deploy(tc_env)
    server = start_server()
    runs = f"{server.url}/api/deployments/{deployment_id}/runs"

    missing = httpx.post(runs, json={})
    assert missing.status_code == 422
    assert "lat: required parameter missing" in missing.json()["detail"]
    mistyped = httpx.post(runs, json={"parameters": {"lat": "north"}})
    assert mistyped.status_code == 422
    assert "lat: Input should be a valid number" in mistyped.json()["detail"]
    unknown = httpx.post(runs, json={"parameters": {"lat": 1, "altitude": 3}})
    assert unknown.status_code == 422 and "altitude" in unknown.json()["detail"]

    def refused_field(body: dict[str, Any], field: str) -> None:
        reply = httpx.post(runs, json=body)
        assert reply.status_code == 422, reply.text
        detail = reply.json()["detail"]
        assert isinstance(detail, str) and field in detail, reply.text

    refused_field({"params": {"lat": 1}}, "params")  # a typo is refused, not ignored
    refused_field({"parameters": {"lat": 1}, "schedule_after": 5,
                   "scheduled_time": "2030-01-01T00:00:00Z"}, "schedule_after")
    refused_field({"parameters": {"lat": 1}, "scheduled_time": "2030-01-01T00:00:00"},
                  "scheduled_time")  # no UTC offset
    refused_field({"parameters": {"lat": 1}, "scheduled_time": "0001-01-01T00:00:00+05:00"},
                  "scheduled_time")  # no UTC time exists for it
    refused_field({"parameters": {"lat": 1}, "schedule_after": -1}, "schedule_after")
    refused_field({"parameters": {"lat": 1}, "work_queue_name": "a b"}, "work_queue_name")

    nowhere = httpx.post(f"{server.url}/api/deployments/name/pipeline/nope/runs",
                         json={"parameters": {"lat": 1}})
    assert nowhere.status_code == 404
    assert "GET /api/deployments lists them" in nowhere.json()["detail"]
    assert get_runtime().store.list_ids("flow") == []  # nothing was created


def test_scheduled_runs_work_queues_and_idempotency(tc_env: dict[str, Any],
                                                    start_server: Any) -> None:
    deployment_id = _deploy(tc_env)
    server = start_server()
    runs = f"{server.url}/api/deployments/{deployment_id}/runs"

    before = datetime.now(UTC)
    later = httpx.post(runs, json={"parameters": {"lat": 1}, "schedule_after": 3600})
    assert later.status_code == 201 and later.json()["state"] == "Scheduled"
    when = datetime.fromisoformat(later.json()["scheduled_time"])
    assert before + timedelta(seconds=3600) <= when <= datetime.now(UTC) + timedelta(
        seconds=3600)
    at = httpx.post(runs, json={"parameters": {"lat": 1},
                                "scheduled_time": "2099-01-02T03:04:05+00:00"})
    assert at.status_code == 201 and at.json()["state"] == "Scheduled"
    assert datetime.fromisoformat(at.json()["scheduled_time"]) == datetime(
        2099, 1, 2, 3, 4, 5, tzinfo=UTC)

    queued = httpx.post(runs, json={"parameters": {"lat": 1}, "work_queue_name": "fast",
                                    "flow_run_name": "by-hand"})
    assert queued.status_code == 201
    assert queued.json()["queue"] == f"{tc_env['queue']}:fast"
    assert queued.json()["flow_run_name"] == "by-hand"

    first = httpx.post(runs, json={"parameters": {"lat": 1}, "idempotency_key": "k1"})
    again = httpx.post(runs, json={"parameters": {"lat": 1}, "idempotency_key": "k1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(get_runtime().store.list_ids("flow")) == 4


def test_pause_resume_and_delete(tc_env: dict[str, Any], start_server: Any) -> None:
    deployment_id = _deploy(tc_env)
    server = start_server()
    url = f"{server.url}/api/deployments"
    resource = f"tasks-core.deployment.{deployment_id}"

    paused = httpx.post(f"{url}/{deployment_id}/pause")
    assert paused.status_code == 200 and paused.json()["paused"] is True
    assert httpx.post(f"{url}/name/pipeline/nightly/pause").json()["paused"] is True  # again
    assert httpx.get(f"{url}/{deployment_id}").json()["paused"] is True
    resumed = httpx.post(f"{url}/name/pipeline/nightly/resume")
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    assert get_runtime().deployments.get(deployment_id).paused is False

    deleted = httpx.delete(f"{url}/name/pipeline/nightly")
    assert deleted.status_code == 200 and deleted.json()["id"] == deployment_id
    assert httpx.get(f"{url}/{deployment_id}").status_code == 404
    assert httpx.delete(f"{url}/{deployment_id}").status_code == 404
    assert httpx.post(f"{url}/{deployment_id}/pause").status_code == 404
    wait_until(lambda: _events_of(tc_env, resource)[-1:] == ["tasks-core.deployment.deleted"],
               10, 0.1, "the deleted event")
    # pausing a paused deployment emits nothing
    assert _events_of(tc_env, resource) == [
        "tasks-core.deployment.created", "tasks-core.deployment.paused",
        "tasks-core.deployment.resumed", "tasks-core.deployment.deleted"]


def test_routes_need_the_api_key_and_are_described(tc_env: dict[str, Any],
                                                   start_server: Any) -> None:
    deployment_id = _deploy(tc_env)
    server = start_server(api_key="s3cret")
    for path in ("/api/deployments", f"/api/deployments/{deployment_id}", "/api/work_pools"):
        assert httpx.get(f"{server.url}{path}").status_code == 401
        keyed = httpx.get(f"{server.url}{path}", headers={"Authorization": "Bearer s3cret"})
        assert keyed.status_code == 200, keyed.text
    refused = httpx.post(f"{server.url}/api/deployments/{deployment_id}/runs",
                         json={"parameters": {"lat": 1}})
    assert refused.status_code == 401 and get_runtime().store.list_ids("flow") == []

    spec: dict[str, Any] = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/api/deployments", "/api/deployments/{deployment_id}",
            "/api/deployments/{deployment_id}/runs", "/api/deployments/{deployment_id}/pause",
            "/api/deployments/{deployment_id}/resume",
            "/api/deployments/name/{flow_name}/{deployment_name}",
            "/api/deployments/name/{flow_name}/{deployment_name}/runs",
            "/api/work_pools", "/api/work_pools/{name}", "/api/work_pools/{name}/pause",
            "/api/work_pools/{name}/resume",
            "/api/work_pools/{name}/concurrency_limit"} <= set(spec["paths"])
    run_body = spec["components"]["schemas"]["RunRequest"]["properties"]
    assert {"parameters", "scheduled_time", "schedule_after", "idempotency_key", "tags",
            "work_queue_name"} <= set(run_body)
