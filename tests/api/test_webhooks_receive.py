"""`/hooks/{slug}` over real HTTP against a `tasks-core server` process: every status."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.webhook_helpers import STATIC, make_hook, stream, stream_ids
from tests.helpers import RedisServer

pytestmark = pytest.mark.usefixtures("tc_env")


def test_a_static_template_is_accepted_with_202_and_the_event_is_on_the_stream(
        start_server: Any) -> None:
    server = start_server()
    hook, _ = make_hook()
    reply = httpx.post(f"{server.url}/hooks/{hook.slug}", content=b"anything")
    assert reply.status_code == 202, reply.text
    event_id = reply.json()["id"]
    events = stream()  # read right after the reply: written before it
    assert [e["id"] for e in events] == [event_id]
    assert events[0]["event"] == "acme.ping"
    assert events[0]["related"] == [{"tasks-core.resource.id": f"tasks-core.webhook.{hook.id}",
                                     "tasks-core.resource.role": "webhook",
                                     "tasks-core.resource.name": "hook"}]
    assert httpx.get(f"{server.url}/hooks/{hook.slug}").status_code == 202  # GET by default


def test_the_template_sees_body_headers_query_method_and_prefect_spelling(
        start_server: Any) -> None:
    server = start_server()
    template = ('{"event": "acme.{{ body.kind }}", "resource": {"prefect.resource.id": '
                '"prefect.flow.{{ query.flow }}"}, "payload": {"form": {{ body | tojson }}, '
                '"agent": {{ headers["x-agent"] | tojson }}, "method": "{{ method }}", '
                '"url": {{ url | tojson }}, "raw": {{ raw_body | tojson }}}}')
    hook, _ = make_hook(template=template, methods=["POST", "PUT"])
    reply = httpx.put(f"{server.url}/hooks/{hook.slug}", params={"flow": "etl"},
                      content=b"kind=order&n=1&n=2",
                      headers={"content-type": "application/x-www-form-urlencoded",
                               "x-agent": "curl"})
    assert reply.status_code == 202, reply.text
    event = stream()[0]
    assert event["id"] == reply.json()["id"]
    assert event["event"] == "acme.order"
    assert event["resource"] == {"tasks-core.resource.id": "tasks-core.flow.etl"}
    assert event["payload"]["form"] == {"kind": "order", "n": ["1", "2"]}
    assert event["payload"]["agent"] == "curl" and event["payload"]["method"] == "PUT"
    assert event["payload"]["raw"] == "kind=order&n=1&n=2"
    assert event["payload"]["url"].endswith(f"/hooks/{hook.slug}?flow=etl")


def test_400_names_the_reason_and_writes_nothing(start_server: Any) -> None:
    server = start_server()
    hook, _ = make_hook(template='{"event": "acme.{{ body.kind }}", "resource": '
                                 '{"tasks-core.resource.id": "{{ body.id }}"}}')
    url = f"{server.url}/hooks/{hook.slug}"
    bad_json = httpx.post(url, content=b"{nope", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["detail"]
    no_id = httpx.post(url, json={"kind": "x", "id": ""})
    assert no_id.status_code == 400
    assert "tasks-core.resource.id" in no_id.json()["detail"]
    undefined = httpx.post(url, json={"kind": "x"})
    assert undefined.status_code == 400 and "id" in undefined.json()["detail"]
    broken = make_hook("broken", template='{"event": "{{ body.kind }}", {{ body.kind }}}')[0]
    rendered = httpx.post(f"{server.url}/hooks/{broken.slug}", json={"kind": "x"})
    assert rendered.status_code == 400 and "invalid JSON" in rendered.json()["detail"]
    assert stream() == []
    assert httpx.post(url, json={"kind": "x", "id": "r"}).status_code == 202


def test_404_for_unknown_and_disabled_slugs(start_server: Any) -> None:
    from tasks_core.webhooks import set_enabled

    server = start_server()
    unknown = httpx.post(f"{server.url}/hooks/no-such-slug-here")
    assert unknown.status_code == 404 and "unknown or disabled" in unknown.json()["detail"]
    hook, _ = make_hook()
    set_enabled(hook.name, False)
    assert httpx.post(f"{server.url}/hooks/{hook.slug}").status_code == 404
    set_enabled(hook.name, True)
    assert httpx.post(f"{server.url}/hooks/{hook.slug}").status_code == 202


def test_405_lists_the_methods_taken(start_server: Any) -> None:
    server = start_server()
    hook, _ = make_hook(methods=["POST"])
    reply = httpx.get(f"{server.url}/hooks/{hook.slug}")
    assert reply.status_code == 405 and reply.headers["allow"] == "POST"
    assert "does not take GET" in reply.json()["detail"]
    assert httpx.delete(f"{server.url}/hooks/{hook.slug}").status_code == 405
    assert stream() == []


def _raw_exchange(url: str, head: str, chunks: list[bytes]) -> bytes:
    """Send `head` then `chunks` on a socket (never ending a chunked body); what the server
    answers before the body is complete."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer is already there
        sock.settimeout(10)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_413_from_content_length_before_any_body_is_sent(start_server: Any) -> None:
    server = start_server(webhook_body_max_bytes="1000")
    hook, _ = make_hook()
    head = (f"POST /hooks/{hook.slug} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Length: 5000000\r\n"
            "Content-Type: text/plain\r\n\r\n")
    answer = _raw_exchange(server.url, head, [])  # not one byte of the body sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert stream() == []


def test_413_while_reading_a_chunked_body(start_server: Any) -> None:
    server = start_server(webhook_body_max_bytes="1000")
    hook, _ = make_hook()
    head = (f"POST /hooks/{hook.slug} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Content-Type: text/plain\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (600, b"x" * 600)
    answer = _raw_exchange(server.url, head, [chunk, chunk])  # 1,200 bytes, never ended
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"webhook_body_max_bytes" in answer or b"413" in answer
    # the same through httpx: a streamed body of unknown length
    reply = httpx.post(f"{server.url}/hooks/{hook.slug}",
                       content=iter([b"y" * 600, b"y" * 600]))
    assert reply.status_code == 413 and "1000 bytes" in reply.json()["detail"]
    assert stream() == []
    fits = httpx.post(f"{server.url}/hooks/{hook.slug}", content=iter([b"y" * 500]))
    assert fits.status_code == 202


def test_429_past_the_rate_limit_with_retry_after(start_server: Any) -> None:
    # an hour's window: the count cannot restart between these requests (but at the hour)
    server = start_server(webhook_rate_limit="3", webhook_rate_window_seconds="3600")
    hook, _ = make_hook()
    other, _ = make_hook("other")
    url = f"{server.url}/hooks/{hook.slug}"
    assert [httpx.post(url).status_code for _ in range(3)] == [202] * 3
    limited = httpx.post(url)
    assert limited.status_code == 429, limited.text
    assert 1 <= int(limited.headers["retry-after"]) <= 3600
    assert "rate limit of 3" in limited.json()["detail"]
    assert httpx.post(f"{server.url}/hooks/{other.slug}").status_code == 202  # per webhook
    assert len(stream()) == 4  # the refused one wrote nothing


def test_503_when_redis_goes_away_and_the_server_keeps_serving(
        start_server: Any, tc_env: dict[str, Any]) -> None:
    own = RedisServer()
    try:
        server = start_server(redis_url=own.url, connect_retries="0")
        created = httpx.post(f"{server.url}/api/webhooks", json={
            "name": "doomed", "template": STATIC, "auth": "none"})
        assert created.status_code == 201, created.text
        url = f"{server.url}/hooks/{created.json()['slug']}"
        assert httpx.post(url).status_code == 202
        own.proc.terminate()
        own.proc.wait(10)
        for _ in range(3):
            reply = httpx.post(url)
            assert reply.status_code == 503, reply.text
            assert reply.headers["retry-after"] == "1"
            assert "unavailable" in reply.json()["detail"]
        assert server.proc.poll() is None  # still serving
        assert httpx.get(f"{server.url}/api/health").status_code == 503
    finally:
        own.stop()


def test_cloudevents_structured_and_binary(start_server: Any) -> None:
    server = start_server()
    hook, _ = make_hook(template=None, cloudevents=True)
    url = f"{server.url}/hooks/{hook.slug}"
    structured = {"specversion": "1.0", "id": "ce-1", "source": "/orders",
                  "type": "com.example.order.created", "time": "2026-01-02T03:04:05Z",
                  "data": {"n": 1}}
    first = httpx.post(url, content=json.dumps(structured),
                       headers={"content-type": "application/cloudevents+json"})
    assert first.status_code == 202, first.text
    binary = httpx.post(url, content=b'{"n": 2}', headers={
        "content-type": "application/json", "ce-specversion": "1.0", "ce-id": "ce-2",
        "ce-source": "/orders", "ce-type": "com.example.order.created"})
    assert binary.status_code == 202, binary.text
    by_id = {e["id"]: e for e in stream()}
    one, two = by_id[first.json()["id"]], by_id[binary.json()["id"]]
    assert one["event"] == two["event"] == "com.example.order.created"
    assert one["resource"]["tasks-core.resource.id"] == "/orders"
    assert one["occurred"].startswith("2026-01-02T03:04:05")
    assert one["payload"]["data"] == {"n": 1} and two["payload"]["data"] == {"n": 2}
    assert two["payload"]["cloudevent"]["id"] == "ce-2"
    again = httpx.post(url, content=json.dumps(structured),
                       headers={"content-type": "application/cloudevents+json"})
    assert again.json()["id"] == first.json()["id"]  # redelivered: stored once
    assert len(stream()) == 2
    plain = httpx.post(url, json={"n": 3})
    assert plain.status_code == 400 and "not a CloudEvent" in plain.json()["detail"]


def test_the_event_is_readable_as_soon_as_the_reply_comes(start_server: Any) -> None:
    server = start_server()
    hook, _ = make_hook()
    for _ in range(20):
        event_id = httpx.post(f"{server.url}/hooks/{hook.slug}").json()["id"]
        assert event_id in stream_ids()  # no buffering between the write and the reply
