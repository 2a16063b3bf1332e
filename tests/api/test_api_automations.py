"""`/api/automations` through a real `tasks-core server` process: create, list, read,
update, delete, pause, resume and test against past events; refusals with the reasons
`Automation` gives; a deployment's own automations; one created over HTTP fires in a real
beat."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tasks_core.automations import Automation
from tasks_core.events.triggers import DeploymentEventTrigger
from tests.helpers import wait_until
from tests.integration import sample_flows

pytestmark = pytest.mark.usefixtures("tc_env")

RID = "tasks-core.resource.id"
PING = {"name": "on ping", "trigger": {"expect": ["acme.ping"]},
        "actions": [{"type": "do-nothing"}]}


def _create(url: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = httpx.post(f"{url}/api/automations", json=body)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def _emit(url: str, name: str, resource_id: str = "acme.1", **labels: str) -> str:
    reply = httpx.post(f"{url}/api/events",
                       json={"event": name, "resource": {RID: resource_id, **labels}})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["id"])


def test_create_list_read_update_pause_resume_delete(start_server: Any) -> None:
    server = start_server()
    api = f"{server.url}/api/automations"
    created = _create(server.url, {**PING, "name": "team/on ping", "tags": ["ops"],
                                   "trigger": {"expect": ["prefect.flow-run.Failed"]}})
    assert created["trigger"]["expect"] == ["tasks-core.flow-run.Failed"]  # our spelling
    assert created["enabled"] is True and created["owner_deployment_id"] is None
    stored = Automation.read("team/on ping")
    assert stored.id == created["id"]  # really stored, as Python reads it
    _create(server.url, {**PING, "name": "another"})

    assert [a["name"] for a in httpx.get(api).json()] == ["another", "team/on ping"]
    for key in ("team/on ping", created["id"], created["id"][:8]):  # name, id, id start
        reply = httpx.get(f"{api}/{key}")
        assert reply.status_code == 200 and reply.json()["id"] == created["id"], key

    paused = httpx.post(f"{api}/team/on ping/pause")
    assert paused.status_code == 200 and paused.json()["enabled"] is False
    assert httpx.post(f"{api}/team/on ping/pause").json()["enabled"] is False  # idempotent
    assert Automation.read(created["id"]).enabled is False

    updated = httpx.put(f"{api}/{created['id']}", json={
        "name": "team/on pong", "trigger": {"expect": ["acme.pong"], "threshold": 2,
                                            "within": 60},
        "actions": [{"type": "do-nothing"}], "description": "two pongs"})
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["name"], body["description"], body["trigger"]["threshold"]) == (
        "team/on pong", "two pongs", 2)
    assert body["enabled"] is False and body["tags"] == ["ops"]  # not given: kept
    assert body["id"] == created["id"] and body["created"] == created["created"]
    assert httpx.get(f"{api}/team/on ping").status_code == 404  # the old name is free

    assert httpx.post(f"{api}/team/on pong/resume").json()["enabled"] is True
    assert Automation.read("team/on pong").enabled is True

    deleted = httpx.delete(f"{api}/team/on pong")
    assert deleted.status_code == 204 and deleted.content == b""
    gone = httpx.get(f"{api}/team/on pong")
    assert gone.status_code == 404 and "not found" in gone.json()["detail"]
    assert httpx.delete(f"{api}/team/on pong").status_code == 404
    assert [a["name"] for a in httpx.get(api).json()] == ["another"]
    changes = httpx.get(f"{server.url}/api/events",
                        params={"event": "tasks-core.automation.*",
                                "resource": f"tasks-core.automation.{created['id']}"}).json()
    assert [e["event"].rsplit(".", 1)[1] for e in changes["items"]] == [
        "deleted", "updated", "updated", "updated", "created"]


def test_refusals_give_the_reason_automation_gives(start_server: Any) -> None:
    server = start_server()
    api = f"{server.url}/api/automations"
    _create(server.url, PING)
    cases: list[tuple[dict[str, Any], str]] = [
        ({**PING, "name": "t", "trigger": {"expect": ["a"], "within": -1}},
         "automation 't': trigger: EventTrigger: within: must be >= 0 s, got -1 s"),
        ({**PING, "name": "a", "actions": [{"type": "run-deployment", "source": "selected"}]},
         "needs exactly one of deployment_name or deployment_id"),
        ({**PING, "name": "tpl", "actions": [{"type": "send-notification",
                                              "to": "json://127.0.0.1:9/x",
                                              "body": "{{ event.payload. }}"}]},
         "body: invalid template"),
        ({**PING, "name": "pool", "actions": [{"type": "pause-work-pool",
                                               "source": "selected",
                                               "work_pool_name": "no-such-pool"}]},
         "no-such-pool"),
        ({**PING, "name": "none", "actions": []}, "at least one action"),
        (PING, "automation name 'on ping' is taken"),
        ({**PING, "name": "i", "id": "mine"}, "id cannot be given (set when stored)"),
        ({**PING, "name": "o", "owner_deployment_id": "d"}, "owner_deployment_id cannot"),
        ({**PING, "name": "f", "colour": "red"}, "colour"),
        ({"trigger": PING["trigger"], "actions": PING["actions"]}, "name"),
    ]
    for body, reason in cases:
        reply = httpx.post(api, json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert reason in str(reply.json()["detail"]), (body, reply.text)
    assert [a["name"] for a in httpx.get(api).json()] == ["on ping"]  # none stored

    missing = httpx.get(f"{api}/on pnig")
    assert missing.status_code == 404 and "did you mean 'on ping'" in missing.json()["detail"]
    for method, path in [("PUT", "nothing"), ("DELETE", "nothing"),
                         ("POST", "nothing/pause"), ("POST", "nothing/resume"),
                         ("POST", "nothing/test")]:
        reply = httpx.request(method, f"{api}/{path}", json=PING if method == "PUT" else None)
        assert reply.status_code == 404, (method, path, reply.text)
    bad_update = httpx.put(f"{api}/on ping", json={**PING, "trigger": {"expect": []}})
    assert bad_update.status_code == 422 and "trigger" in bad_update.json()["detail"]


def test_test_replays_past_events(start_server: Any) -> None:
    server = start_server()
    api = f"{server.url}/api/automations"
    for _ in range(3):
        _emit(server.url, "acme.order.placed", customer="acme")
    _create(server.url, {**PING, "name": "three orders", "trigger": {
        "expect": ["acme.order.placed"], "threshold": 3, "within": 60}})
    _create(server.url, {**PING, "name": "ten orders", "trigger": {
        "expect": ["acme.order.placed"], "threshold": 10, "within": 60}})
    _create(server.url, {**PING, "name": "bigco", "trigger": {
        "expect": ["acme.order.placed"], "match": {"customer": "bigco"}}})

    fired = httpx.post(f"{api}/three orders/test", json={"since": "1h"})
    assert fired.status_code == 200, fired.text
    found = fired.json()
    assert found["fired"] is True and found["firing_count"] == 1 and found["reason"] is None
    assert found["firings"][0]["event"]["event"] == "acme.order.placed"
    assert found["events"] == 6  # 3 orders, 3 automation.created
    assert found["summary"].startswith("would have fired once")

    short = httpx.post(f"{api}/ten orders/test").json()  # default: the last hour
    assert short["fired"] is False and short["firings"] == []
    assert short["reason"]["condition"] == "threshold"
    assert (short["reason"]["got"], short["reason"]["needed"]) == (3, 10)
    label = httpx.post(f"{api}/bigco/test", json={"since": "1h"}).json()
    assert label["reason"]["condition"] == "label" and "bigco" in label["reason"]["message"]

    earlier = httpx.post(f"{api}/three orders/test", json={"since": "2h", "until": "1h"})
    assert earlier.json()["events"] == 0 and earlier.json()["fired"] is False
    backwards = httpx.post(f"{api}/three orders/test", json={"since": "1h", "until": "2h"})
    assert backwards.status_code == 422 and "is before since" in backwards.json()["detail"]
    bad = httpx.post(f"{api}/three orders/test", json={"since": "ages ago"})
    assert bad.status_code == 422 and "since: invalid time" in bad.json()["detail"]


def test_a_deployments_own_automation_is_edited_as_the_cli_does(start_server: Any) -> None:
    server = start_server()
    api = f"{server.url}/api/automations"
    dep_id = sample_flows.pipeline.deploy(
        "nightly", work_pool_name="default",
        triggers=[DeploymentEventTrigger(name="go nightly", expect={"acme.go"})])
    owned = httpx.get(f"{api}/go nightly").json()
    assert owned["owner_deployment_id"] == dep_id
    assert httpx.post(f"{api}/go nightly/pause").json()["enabled"] is False
    updated = httpx.put(f"{api}/go nightly", json={
        "name": "go nightly", "trigger": {"expect": ["acme.go", "acme.now"]},
        "actions": owned["actions"]})
    assert updated.status_code == 200, updated.text
    assert updated.json()["owner_deployment_id"] == dep_id  # still the deployment's
    assert sorted(updated.json()["trigger"]["expect"]) == ["acme.go", "acme.now"]
    assert httpx.delete(f"{api}/go nightly").status_code == 204
    sample_flows.pipeline.deploy(  # deploying again brings it back
        "nightly", work_pool_name="default",
        triggers=[DeploymentEventTrigger(name="go nightly", expect={"acme.go"})])
    assert httpx.get(f"{api}/go nightly").json()["owner_deployment_id"] == dep_id


def _engine_ready(tc_env: dict[str, Any], timeout: float = 30) -> None:
    """Until beat's trigger engine has created its consumer group."""
    client, prefix = tc_env["client"], tc_env["prefix"]

    def ready() -> bool:
        if not client.exists(f"{prefix}:events"):
            return False
        return any(g["name"] == f"{prefix}:engine:group"
                   for g in client.xinfo_groups(f"{prefix}:events"))
    wait_until(ready, timeout, 0.05, "the trigger engine's consumer group")


def test_an_automation_created_over_http_fires_in_beat(start_server: Any, start_beat: Any,
                                                       tc_env: dict[str, Any]) -> None:
    server = start_server()
    start_beat()
    _emit(server.url, "acme.warmup")  # the stream exists for the engine's group
    _engine_ready(tc_env)
    automation = _create(server.url, PING)

    def triggered() -> list[dict[str, Any]]:
        reply = httpx.get(f"{server.url}/api/events", params={
            "event": "tasks-core.automation.triggered",
            "resource": f"tasks-core.automation.{automation['id']}"})
        return list(reversed(reply.json()["items"]))

    time.sleep(1.0)  # a created automation takes effect within 1 s (change message)
    first = _emit(server.url, "acme.ping")
    wait_until(lambda: len(triggered()) == 1, 30, 0.1, "the firing")
    assert triggered()[0]["payload"]["triggering_event"] == first

    assert httpx.post(f"{server.url}/api/automations/on ping/pause").status_code == 200
    time.sleep(1.0)
    _emit(server.url, "acme.ping")  # paused: fires nothing
    assert httpx.post(f"{server.url}/api/automations/on ping/resume").status_code == 200
    time.sleep(1.0)
    third = _emit(server.url, "acme.ping")
    wait_until(lambda: len(triggered()) == 2, 30, 0.1, "the firing after resuming")
    assert triggered()[-1]["payload"]["triggering_event"] == third
    executed = wait_until(lambda: httpx.get(f"{server.url}/api/events", params={
        "event": "tasks-core.automation.action.executed"}).json()["items"], 30, 0.1,
        "the action's executed event")
    assert {e["payload"]["action_type"] for e in executed} == {"do-nothing"}
