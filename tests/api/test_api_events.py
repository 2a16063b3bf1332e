"""`/api/events` through a real `tasks-core server` process: list with the CLI's filters,
emit (on the stream before the 202), server-sent events (live, replay, resume, heartbeat,
disconnect), refusals and Redis away."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tasks_core.events.feed import EventFilter, list_events
from tasks_core.process_runtime import get_runtime
from tests.helpers import RedisServer, wait_until

pytestmark = pytest.mark.usefixtures("tc_env")

RID = "tasks-core.resource.id"
ROLE = "tasks-core.resource.role"


def _emit(url: str, name: str, resource_id: str, **fields: Any) -> str:
    reply = httpx.post(f"{url}/api/events",
                       json={"event": name, "resource": {RID: resource_id}, **fields})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["id"])


def _listed(url: str, **params: Any) -> list[dict[str, Any]]:
    reply = httpx.get(f"{url}/api/events", params=params)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["items"])


def _stored(event_id: str) -> bool:
    return any(e.id == event_id for e in list_events(get_runtime().events, EventFilter(),
                                                     limit=1000))


def test_emit_is_stored_before_the_reply_and_listed_with_filters(start_server: Any) -> None:
    server = start_server()
    reply = httpx.post(f"{server.url}/api/events", json={
        "event": "prefect.acme.order.shipped",  # Prefect's spellings, stored in ours
        "resource": {"prefect.resource.id": "acme.order.42", "prefect.resource.name": "42"},
        "related": [{"prefect.resource.id": "prefect.flow.etl", "prefect.resource.role": "flow"}],
        "payload": {"items": 3}, "id": "order-42-shipped"})
    assert reply.status_code == 202 and reply.json() == {"id": "order-42-shipped"}
    assert _stored("order-42-shipped")  # in Redis already: no waiting
    second = _emit(server.url, "acme.order.created", "acme.order.43")
    _emit(server.url, "other.thing", "other.1")

    [shipped] = _listed(server.url, event="tasks-core.acme.order.shipped")
    assert shipped["resource"] == {RID: "acme.order.42", "tasks-core.resource.name": "42"}
    assert shipped["related"] == [{RID: "tasks-core.flow.etl", ROLE: "flow"}]
    assert shipped["payload"] == {"items": 3} and shipped["received"] is not None
    orders = _listed(server.url, resource="acme.order.*")
    assert [e["id"] for e in orders] == [second, "order-42-shipped"]  # newest first
    assert [e["id"] for e in _listed(server.url, resource="acme.order.*", limit=1)] == [second]
    assert [e["id"] for e in _listed(server.url, related="prefect.flow.*")] == [
        "order-42-shipped"]
    both = _listed(server.url, event=["*.created", "other.*"])  # repeated: any may match
    assert {e["event"] for e in both} == {"acme.order.created", "other.thing"}
    assert len(_listed(server.url, since="1h")) == 3
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert _listed(server.url, until=an_hour_ago) == []  # naive ISO times are UTC
    assert _listed(server.url, event="nothing.*") == []


def test_the_same_id_is_stored_once(start_server: Any) -> None:
    server = start_server()
    for _ in range(2):
        assert _emit(server.url, "acme.ping", "acme.1", id="ping-1") == "ping-1"
    assert len(_listed(server.url, event="acme.ping")) == 1


def test_bad_events_and_filters_are_422s_naming_what_is_wrong(start_server: Any) -> None:
    server = start_server(event_payload_max_bytes="100")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"event": "acme.x", "resource": {"name": "no id"}}, "tasks-core.resource.id"),
        ({"event": "acme.x", "resource": {RID: "a"}, "related": [{RID: "b"}]},
         "related resource 0 needs non-empty 'tasks-core.resource.role'"),
        ({"event": "acme.x", "resource": {RID: "a"}, "payload": {"blob": "x" * 200}},
         "event_payload_max_bytes"),
        ({"event": "", "resource": {RID: "a"}}, "event"),
        ({"event": "acme.x", "resource": {RID: "a"}, "colour": "red"}, "colour"),
        ({"resource": {RID: "a"}}, "event"),
        ({"event": "acme.x", "resource": {RID: "a"}, "occurred": "yesterday"}, "occurred"),
    ]
    for body, named in cases:
        reply = httpx.post(f"{server.url}/api/events", json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert named in json.dumps(reply.json()["detail"]), (body, reply.text)
    assert _listed(server.url) == []  # nothing half-formed was written
    for params, named in [({"since": "last tuesday"}, "since: invalid time"),
                          ({"until": "soon"}, "until: invalid time"), ({"limit": 0}, "limit"),
                          ({"limit": 1001}, "limit")]:
        reply = httpx.get(f"{server.url}/api/events", params=params)
        assert reply.status_code == 422 and named in json.dumps(reply.json()), reply.text
    bad = httpx.get(f"{server.url}/api/events/stream", params={"since": "whenever"})
    assert bad.status_code == 422 and "since: invalid time" in bad.json()["detail"]
    resume = httpx.get(f"{server.url}/api/events/stream", headers={"Last-Event-ID": "x"})
    assert resume.status_code == 422 and "Last-Event-ID" in resume.json()["detail"]


HEARTBEAT = "0.5"
"""Heartbeat of the stream tests' servers: the reading thread sees a line at least this
often, so it notices `close()` and hangs up."""


class _Sse:
    """A server-sent-events client on a thread: collects data and comment lines until
    `close()` (its server must send heartbeats often: see `HEARTBEAT`)."""

    def __init__(self, url: str, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.data: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.comments: list[str] = []
        self.content_type = ""
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, params, headers),
                                        daemon=True)
        self._thread.start()
        assert self._connected.wait(20), "the stream did not open"

    def _run(self, url: str, params: dict[str, Any] | None,
             headers: dict[str, str] | None) -> None:
        with httpx.stream("GET", f"{url}/api/events/stream", params=params, headers=headers,
                          timeout=httpx.Timeout(30, read=30)) as reply:
            self.content_type = reply.headers["content-type"]
            for line in reply.iter_lines():
                if line.startswith(":"):
                    self.comments.append(line)
                    self._connected.set()
                elif line.startswith("data: "):
                    self.data.append(json.loads(line.removeprefix("data: ")))
                elif line.startswith("id: "):
                    self.ids.append(line.removeprefix("id: "))
                if self._stop.is_set():
                    return

    def names(self) -> list[str]:
        return [event["event"] for event in self.data]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture
def streams() -> Iterator[list[_Sse]]:
    opened: list[_Sse] = []
    yield opened
    for stream in opened:
        stream.close()


def test_the_stream_follows_live_events_with_filters(start_server: Any,
                                                     streams: list[_Sse]) -> None:
    server = start_server(api_stream_heartbeat_seconds=HEARTBEAT)
    before = _emit(server.url, "acme.order.created", "acme.order.1")  # before: not followed
    live = _Sse(server.url, {"event": "acme.order.*"})
    streams.append(live)
    assert live.content_type.startswith("text/event-stream")
    sent = [_emit(server.url, f"acme.order.{step}", "acme.order.2")
            for step in ("created", "paid", "shipped")]
    _emit(server.url, "other.thing", "other.1")  # filtered out
    wait_until(lambda: len(live.data) >= 3, 20, 0.05, "three events on the stream")
    assert [e["id"] for e in live.data] == sent and before not in live.ids
    assert live.names() == ["acme.order.created", "acme.order.paid", "acme.order.shipped"]
    assert len(live.ids) == 3 and all("-" in i for i in live.ids)  # stream entry ids

    replay = _Sse(server.url, {"since": "1h", "resource": "acme.order.1"})
    streams.append(replay)
    wait_until(lambda: replay.data, 20, 0.05, "the replayed event")
    assert [e["id"] for e in replay.data] == [before]

    # a client that reconnects with Last-Event-ID gets what came after that entry
    resumed = _Sse(server.url, {"event": "acme.order.*"}, {"Last-Event-ID": live.ids[0]})
    streams.append(resumed)
    wait_until(lambda: len(resumed.data) >= 2, 20, 0.05, "the events after the first")
    assert [e["id"] for e in resumed.data] == sent[1:]


def _blocked_stream_reads(client: Any) -> int:
    return sum(1 for c in client.client_list()
               if c.get("cmd") == "xread" and "b" in c.get("flags", ""))


def test_heartbeats_and_a_disconnect_frees_the_read(start_server: Any, tc_env: dict[str, Any],
                                                   streams: list[_Sse]) -> None:
    server = start_server(api_stream_heartbeat_seconds=HEARTBEAT)
    quiet = _Sse(server.url, {"event": "never.*"})
    streams.append(quiet)
    wait_until(lambda: ": keep-alive" in quiet.comments, 20, 0.05, "a heartbeat comment")
    assert quiet.comments[0] == ": connected" and quiet.data == []
    wait_until(lambda: _blocked_stream_reads(tc_env["client"]) >= 1, 10, 0.05,
               "the server's stream read")
    streams.remove(quiet)
    quiet.close()
    # the server notices the client is gone and stops reading within a read's block time
    wait_until(lambda: _blocked_stream_reads(tc_env["client"]) == 0, 10, 0.1,
               "the stream read to end after the disconnect")
    assert httpx.get(f"{server.url}/api/health").status_code == 200
    assert "Traceback" not in server.output()


def test_redis_away_is_a_503_and_nothing_is_acknowledged(start_server: Any,
                                                         streams: list[_Sse]) -> None:
    private = RedisServer()
    server = start_server(redis_url=private.url, api_stream_heartbeat_seconds=HEARTBEAT)
    assert _emit(server.url, "acme.before", "acme.1")
    live = _Sse(server.url)
    streams.append(live)
    private.stop()
    # an open stream says so and keeps trying; it does not end or crash the server
    wait_until(lambda: any("unavailable" in c for c in live.comments), 60, 0.1,
               "the stream's note that Redis is away")
    started = time.monotonic()
    reply = httpx.post(f"{server.url}/api/events", timeout=60,
                       json={"event": "acme.during", "resource": {RID: "acme.1"}})
    assert reply.status_code == 503, reply.text
    assert reply.headers["retry-after"] == "1" and "nothing was written" in reply.json()["detail"]
    assert time.monotonic() - started < 30
    listing = httpx.get(f"{server.url}/api/events", timeout=60)
    assert listing.status_code == 503
    assert server.proc.poll() is None  # the server is still up
