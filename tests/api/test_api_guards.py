"""What a break-it review found, each kind as a test over real HTTP: DNS rebinding (Host),
framing, a blank API key, request validation that echoed unencodable input (500), trigger
windows too long to evaluate, and webhook events that were answered 202 but not stored or
that spoke for another webhook or for tasks-core."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tasks_core.settings import Settings
from tests.api.webhook_helpers import make_hook, stream

pytestmark = pytest.mark.usefixtures("tc_env")


def test_without_a_key_only_loopback_host_names_are_served(start_server: Any) -> None:
    server = start_server()
    rebound = httpx.get(f"{server.url}/api/flow_runs", headers={"Host": "evil.example:80"})
    assert rebound.status_code == 421 and "TASKS_CORE_API_KEY" in rebound.json()["detail"]
    forged = httpx.post(f"{server.url}/api/events", headers={"Host": "evil.example"},
                        json={"event": "x", "resource": {"tasks-core.resource.id": "x"}})
    assert forged.status_code == 421
    for host in ("localhost", f"127.0.0.1:{server.port}", "[::1]:4200"):
        reply = httpx.get(f"{server.url}/api/health", headers={"Host": host})
        assert reply.status_code == 200, host
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["content-security-policy"] == "frame-ancestors 'none'"
    keyed = start_server(api_key="k")  # with a key, the key protects: any Host is served
    assert httpx.get(f"{keyed.url}/api/flow_runs", headers={
        "Host": "tasks.example.com", "Authorization": "Bearer k"}).status_code == 200


def test_a_blank_api_key_is_no_key(monkeypatch: pytest.MonkeyPatch, start_server: Any) -> None:
    for blank in ("", "   "):
        monkeypatch.setenv("TASKS_CORE_API_KEY", blank)
        assert Settings().api_key is None
    server = start_server(wait=False, host="0.0.0.0", api_key="")
    assert server.proc.wait(30) == 1 and "without an API key" in server.output()


def test_unencodable_or_invalid_input_is_one_line_422(start_server: Any) -> None:
    server = start_server()
    cases = [("/api/events", b'{"name": "\\ud800"}'),
             ("/api/work_pools", b'{"name": "p", "concurrency_limit": 1e400}'),
             ("/api/automations", b'{"name": "\\ud800", "trigger": {}, "actions": []}')]
    for path, body in cases:
        reply = httpx.post(f"{server.url}{path}", content=body,
                           headers={"Content-Type": "application/json"})
        assert reply.status_code == 422, (path, reply.text)
        detail = reply.json()["detail"]
        assert isinstance(detail, str) and detail, detail  # one line, and it encoded


def test_a_trigger_window_too_long_to_evaluate_is_refused(start_server: Any) -> None:
    server = start_server()
    for within in (1e12, 1e18):
        reply = httpx.post(f"{server.url}/api/automations", json={
            "name": f"w{within:g}", "actions": [{"type": "do-nothing"}],
            "trigger": {"type": "event", "expect": ["a.*"], "within": within}})
        assert reply.status_code == 422, reply.text
        assert "within" in reply.json()["detail"] and "365 days" in reply.json()["detail"]


def test_a_webhook_never_answers_202_for_an_event_it_did_not_store(start_server: Any) -> None:
    server = start_server()
    template = json.dumps({"id": "{{ body.id }}", "event": "acme.{{ body.kind }}",
                           "resource": {"tasks-core.resource.id": "acme.shop"}})
    a, _ = make_hook("a", template=template)
    b, _ = make_hook("b", template=template)
    fixed = "7d3f3a52-5b1e-4a36-9c53-3a1f0c2a9b11"
    first = httpx.post(f"{server.url}/hooks/{a.slug}", json={"id": fixed, "kind": "paid"})
    again = httpx.post(f"{server.url}/hooks/{a.slug}", json={"id": fixed, "kind": "paid"})
    assert (first.status_code, again.status_code) == (202, 202)  # a redelivery: stored once
    other = httpx.post(f"{server.url}/hooks/{b.slug}", json={"id": fixed, "kind": "paid"})
    different = httpx.post(f"{server.url}/hooks/{a.slug}", json={"id": fixed, "kind": "junk"})
    for reply in (other, different):
        assert reply.status_code == 409 and fixed in reply.json()["detail"], reply.text
    assert [e["event"] for e in stream()] == ["acme.paid"]


def test_a_webhook_cannot_speak_for_another_webhook_or_for_tasks_core(
        start_server: Any) -> None:
    server = start_server()
    legit, _ = make_hook("legit")
    spoof_related = json.dumps({
        "event": "invoice.paid", "resource": {"tasks-core.resource.id": "x"},
        "related": [{"tasks-core.resource.id": f"tasks-core.webhook.{legit.id}",
                     "tasks-core.resource.role": "webhook"}]})
    internal = json.dumps({"event": "prefect.flow-run.Failed",
                           "resource": {"prefect.resource.id": "prefect.flow-run.1"}})
    for name, template, reason in (("spoof", spoof_related, "names a webhook"),
                                   ("internal", internal, "own namespace")):
        hook, _ = make_hook(name, template=template)
        reply = httpx.post(f"{server.url}/hooks/{hook.slug}")
        assert reply.status_code == 400 and reason in reply.json()["detail"], reply.text
    assert stream() == []
