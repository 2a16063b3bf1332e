"""The HTTP API over work pools, through a real `tasks-core server` process (and a real
worker where a run must be parked and resumed)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tasks_core.process_runtime import get_runtime
from tasks_core.run_event_codec import entry_text
from tests.helpers import wait_until
from tests.integration import sample_flows as f

pytestmark = pytest.mark.usefixtures("tc_env")


def _events_of(tc_env: dict[str, Any], pool: str) -> list[str]:
    """Names of the stream's events about the work pool `pool`, oldest first."""
    entries = tc_env["client"].xrange(f"{tc_env['prefix']}:events")
    events = [json.loads(entry_text(fields) or "") for _, fields in entries]
    return [e["event"] for e in events
            if e["resource"]["tasks-core.resource.id"] == f"tasks-core.work-pool.{pool}"]


def _refused(reply: httpx.Response, field: str) -> None:
    """A 422 whose detail names `field`."""
    assert reply.status_code == 422, reply.text
    assert field in json.dumps(reply.json()["detail"]), reply.text


def test_create_list_read_and_clear_errors(tc_env: dict[str, Any], start_server: Any) -> None:
    server = start_server()
    url = f"{server.url}/api/work_pools"
    created = httpx.post(url, json={"name": "gpu", "concurrency_limit": 2,
                                    "description": "the big ones"})
    assert created.status_code == 201, created.text
    assert created.json() | {"created": None} == {
        "name": "gpu", "paused": False, "paused_queues": [], "concurrency_limit": 2,
        "description": "the big ones",
        "created": None, "running_count": 0, "parked_count": 0, "running": [], "parked": []}
    assert get_runtime().pools.get("gpu").concurrency_limit == 2
    assert httpx.post(url, json={"name": "cpu"}).status_code == 201

    twice = httpx.post(url, json={"name": "gpu"})
    assert twice.status_code == 409 and "'gpu' already exists" in twice.json()["detail"]
    _refused(httpx.post(url, json={"name": "a b"}), "work pool name 'a b' has ' '")
    _refused(httpx.post(url, json={"name": "z", "concurrency_limit": 0}), "concurrency_limit")
    _refused(httpx.post(url, json={"name": "z", "concurrency_limit": "3"}), "concurrency_limit")
    _refused(httpx.post(url, json={"name": "z", "limit": 3}), "limit")
    assert "z" not in get_runtime().pools.names()

    listed = httpx.get(url).json()
    assert [p["name"] for p in listed] == ["cpu", "gpu"]
    assert {k: listed[1][k] for k in ("concurrency_limit", "running_count", "parked_count")} \
        == {"concurrency_limit": 2, "running_count": 0, "parked_count": 0}
    read = httpx.get(f"{url}/gpu").json()
    assert read["name"] == "gpu" and read["running"] == [] and read["parked"] == []

    for reply in (httpx.get(f"{url}/nope"), httpx.post(f"{url}/nope/pause"),
                  httpx.post(f"{url}/nope/resume"),
                  httpx.put(f"{url}/nope/concurrency_limit", json={"concurrency_limit": 1})):
        assert reply.status_code == 404, reply.text
        assert "work pool 'nope' not found" in reply.json()["detail"]
        assert "GET /api/work_pools lists them" in reply.json()["detail"]


def test_set_the_concurrency_limit(tc_env: dict[str, Any], start_server: Any) -> None:
    server = start_server()
    url = f"{server.url}/api/work_pools"
    assert httpx.post(url, json={"name": "etl"}).status_code == 201
    limit = f"{url}/etl/concurrency_limit"

    three = httpx.put(limit, json={"concurrency_limit": 3})
    assert three.status_code == 200 and three.json()["concurrency_limit"] == 3
    assert get_runtime().pools.get("etl").concurrency_limit == 3
    _refused(httpx.put(limit, json={"concurrency_limit": 0}), "concurrency_limit")
    _refused(httpx.put(limit, json={"concurrency_limit": True}), "concurrency_limit")
    _refused(httpx.put(limit, json={}), "concurrency_limit")
    assert get_runtime().pools.get("etl").concurrency_limit == 3  # unchanged
    cleared = httpx.put(limit, json={"concurrency_limit": None})
    assert cleared.status_code == 200 and cleared.json()["concurrency_limit"] is None
    assert get_runtime().pools.get("etl").concurrency_limit is None


def test_pausing_a_pool_over_http_parks_a_run_until_it_resumes(
        tc_env: dict[str, Any], start_server: Any, start_worker: Any) -> None:
    pool = tc_env["queue"]
    server = start_server()
    url = f"{server.url}/api/work_pools"
    assert httpx.post(url, json={"name": pool}).status_code == 201
    f.pipeline.deploy("p", work_pool_name=pool)
    start_worker(concurrency=1, pool=pool)

    paused = httpx.post(f"{url}/{pool}/pause")
    assert paused.status_code == 200, (paused.text, server.output()[-3000:])
    assert paused.json()["paused"] is True
    assert httpx.post(f"{url}/{pool}/pause").json()["paused"] is True  # again: no new event
    created = httpx.post(f"{server.url}/api/deployments/name/pipeline/p/runs",
                         json={"parameters": {"lat": 1}})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]

    def parked() -> bool:
        return bool(httpx.get(f"{url}/{pool}").json()["parked"] == [run_id])

    wait_until(parked, 20, 0.1, "the run to be parked")
    view = httpx.get(f"{url}/{pool}").json()
    assert view["parked_count"] == 1 and view["running"] == []
    listed = {p["name"]: p for p in httpx.get(url).json()}
    assert listed[pool]["parked_count"] == 1 and listed[pool]["paused"] is True
    store = get_runtime().store
    assert not store.wait(run_id, 1)  # held, not run
    assert store.get(run_id).state.value == "Pending"

    resumed = httpx.post(f"{url}/{pool}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["paused"] is False and resumed.json()["sent_again"] == [run_id]
    assert store.wait(run_id, 30) and store.get(run_id).state.value == "Completed"
    again = httpx.post(f"{url}/{pool}/resume")
    assert again.json()["sent_again"] == [] and again.json()["parked_count"] == 0
    wait_until(lambda: "tasks-core.work-pool.resumed" in _events_of(tc_env, pool), 10, 0.1,
               "the resumed event")
    assert _events_of(tc_env, pool).count("tasks-core.work-pool.paused") == 1
    assert _events_of(tc_env, pool).count("tasks-core.work-pool.resumed") == 1
