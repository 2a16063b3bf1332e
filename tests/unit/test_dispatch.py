"""Messages built by tasks_core/dispatch.py are the messages Celery + kombu's Redis transport send.

The reference messages are produced by Celery itself, without a broker: `as_task_v2` for the
task protocol, and a full `send_task` through kombu's Redis transport whose Redis client is a
recorder (so the exact LPUSH kombu would issue is captured, and nothing connects). The
recorder stands in below kombu's key prefixing (``global_keyprefix``), so the keys it
records are unprefixed: ours carry the stack's broker prefix (`Keys.broker_prefix`), which
kombu's prefixed client adds to exactly these commands.
"""

from __future__ import annotations

import base64
import json
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
from celery import Celery
from kombu.transport import redis as kombu_redis

from tasks_core.celery_app import EXECUTE_CHUNK, EXECUTE_RUN, create_app
from tasks_core.dispatch import Dispatcher, Envelope, redis_push
from tasks_core.settings import Settings
from tasks_core.store.keys import Keys

REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: any connection attempt fails
RUN_ID = "0b6c1f4e-6a51-4c4b-9d1f-3f1f6f0c2a10"
ETA = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
K = Keys("p")


class RecordingRedis:
    """Stands in for kombu's redis client: records commands, answers like an empty Redis."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        def command(*args: Any, **_: Any) -> Any:
            self.calls.append((name, args))
            return self  # pipelines chain

        return command

    def ping(self) -> bool:
        return True

    def execute(self) -> list[int]:
        return [0] * len(kombu_redis.PRIORITY_STEPS)

    def __enter__(self) -> RecordingRedis:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def pushes(self) -> list[tuple[str, dict[str, Any]]]:
        return [(args[0], json.loads(args[1])) for name, args in self.calls if name == "lpush"]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything opens a TCP connection or starts the embedded Redis."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("unexpected network connection")

    def no_embedded(*_: Any, **__: Any) -> Any:
        raise AssertionError("unexpected start of the embedded Redis")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr("tasks_core.store.embedded.ensure_embedded", no_embedded)


@pytest.fixture
def kombu_sent(monkeypatch: pytest.MonkeyPatch, no_network: None) -> Any:
    """send_task through Celery and kombu's Redis transport; returns (list key, message)."""
    recorder = RecordingRedis()
    monkeypatch.setattr(kombu_redis.Channel, "_create_client",
                        lambda self, asynchronous=False: recorder)

    def send(**options: Any) -> tuple[str, dict[str, Any]]:
        app = create_app(Settings(redis_url=REDIS, key_prefix="p"))  # the guarded transport
        app.conf.update(broker_connection_retry_on_startup=False)
        recorder.calls.clear()
        app.send_task(EXECUTE_RUN, **options)
        (pushed,) = recorder.pushes()
        return pushed

    return send


def _ours(**options: Any) -> tuple[str, dict[str, Any]]:
    """Our list key without the broker prefix (as the recorder sees kombu's), and message."""
    push = redis_push(Envelope.for_run(RUN_ID, 1, **options), K)
    assert push.key.startswith(K.broker_prefix)
    return push.key.removeprefix(K.broker_prefix), json.loads(push.payload)


def test_kombu_prefixes_the_list_it_pushes_onto_with_the_broker_prefix() -> None:
    client = kombu_redis.PrefixedStrictRedis(global_keyprefix=K.broker_prefix)
    for priority in (0, 5, 9):
        push = redis_push(Envelope.for_run(RUN_ID, 1, queue="work", name="a", argsrepr="",
                                           priority=priority), K)
        kombu_key = _ours(queue="work", name="a", argsrepr="", priority=priority)[0]
        assert client._prefix_args(["LPUSH", kombu_key, "m"])[1] == push.key
        assert client._prefix_args(["BRPOP", kombu_key, 1])[1] == push.key


def test_message_structure_matches_kombu_redis_transport(kombu_sent: Any) -> None:
    key, theirs = kombu_sent(args=[RUN_ID, 1], task_id=RUN_ID, queue="q", shadow="add",
                             eta=ETA, time_limit=12.5)
    our_key, ours = _ours(queue="q", name="add", argsrepr="{}", eta=ETA, time_limit=12.5)
    assert our_key == key
    assert set(ours) == set(theirs)
    assert set(ours["headers"]) == set(theirs["headers"])
    assert set(ours["properties"]) == set(theirs["properties"])
    assert ours["properties"]["delivery_info"] == theirs["properties"]["delivery_info"]
    for name in ("content-type", "content-encoding"):
        assert ours[name] == theirs[name]
    assert ours["content-type"] == "application/json"
    for name in ("task", "id", "shadow", "eta", "timelimit", "root_id", "parent_id", "retries",
                 "lang", "kwargsrepr", "expires", "group"):
        assert ours["headers"][name] == theirs["headers"][name], name
    for name in ("correlation_id", "delivery_mode", "priority", "body_encoding"):
        assert ours["properties"][name] == theirs["properties"][name], name
    assert ours["body"] == theirs["body"]  # same JSON text, same base64


def test_body_decodes_to_task_protocol_2() -> None:
    _, message = _ours(queue="q", name="add", argsrepr="{}")
    assert message["properties"]["body_encoding"] == "base64"
    body = json.loads(base64.b64decode(message["body"]))
    assert body == [[RUN_ID, 1], {}, EMBED]


def test_headers_contain_every_header_celery_produces() -> None:
    app = Celery("reference", broker="memory://", set_as_current=False)
    reference = app.amqp.as_task_v2(RUN_ID, EXECUTE_RUN, args=[RUN_ID, 1], shadow="add",
                                    argsrepr='{"x":1}', eta=ETA, time_limit=30.0)
    _, message = _ours(queue="q", name="add", argsrepr='{"x":1}', eta=ETA, time_limit=30.0)
    headers = message["headers"]
    assert set(reference.headers) <= set(headers)
    for name in ("task", "id", "shadow", "eta", "timelimit", "argsrepr"):
        assert headers[name] == reference.headers[name], name
    assert headers["eta"] == ETA.isoformat()
    assert list(reference.body) == [[RUN_ID, 1], {}, EMBED]
    assert message["properties"]["correlation_id"] == reference.properties["correlation_id"]


def test_headers_without_eta_or_time_limit() -> None:
    _, message = _ours(queue="q", name="add", argsrepr="{}")
    assert message["headers"]["eta"] is None
    assert message["headers"]["timelimit"] == [None, None]


def test_every_attempt_is_the_same_celery_task_with_its_retry_count() -> None:
    first = Envelope.for_run(RUN_ID, 1, queue="q", name="add", argsrepr="{}")
    third = Envelope.for_run(RUN_ID, 3, queue="q", name="add", argsrepr="{}")
    assert first.message_id == third.message_id == RUN_ID
    assert third.args == [RUN_ID, 3]
    headers = json.loads(redis_push(third, K).payload)["headers"]
    assert headers["id"] == headers["root_id"] == RUN_ID
    assert headers["retries"] == 2 and headers["parent_id"] is None


def test_a_run_in_a_tree_carries_its_root_and_parent() -> None:
    envelope = Envelope.for_run(RUN_ID, 1, queue="q", name="add", argsrepr="{}",
                                root_id="top", parent_id="flow")
    headers = json.loads(redis_push(envelope, K).payload)["headers"]
    assert (headers["root_id"], headers["parent_id"]) == ("top", "flow")


@pytest.mark.parametrize("priority", range(10))
def test_priority_list_key_matches_kombu(kombu_sent: Any, priority: int) -> None:
    key, theirs = kombu_sent(args=[RUN_ID, 1], task_id=RUN_ID, queue="work", shadow="add",
                             priority=priority)
    our_key, ours = _ours(queue="work", name="add", argsrepr="{}", priority=priority)
    assert our_key == key
    assert ours["properties"]["priority"] == theirs["properties"]["priority"] == priority


def test_priority_list_keys() -> None:
    sep = kombu_redis.Channel.sep
    assert sep == "\x06\x16"
    assert kombu_redis.PRIORITY_STEPS == [0, 3, 6, 9]
    assert _ours(queue="q", name="a", argsrepr="", priority=0)[0] == "q"
    assert _ours(queue="q", name="a", argsrepr="", priority=2)[0] == "q"
    assert _ours(queue="q", name="a", argsrepr="", priority=5)[0] == "q" + sep + "3"
    assert _ours(queue="q", name="a", argsrepr="", priority=6)[0] == "q" + sep + "6"
    assert _ours(queue="q", name="a", argsrepr="", priority=9)[0] == "q" + sep + "9"


def test_envelope_for_chunk() -> None:
    ids = ["r1", "r2", "r3"]
    envelope = Envelope.for_chunk(ids, queue="q", name="add")
    assert envelope.task == EXECUTE_CHUNK
    assert envelope.args == [ids]
    assert envelope.queue == "q"
    assert envelope.shadow == "add[x3]"
    assert "3 runs" in envelope.argsrepr
    assert envelope.message_id != Envelope.for_chunk(ids, queue="q", name="add").message_id
    push = redis_push(envelope, K)
    message = json.loads(push.payload)
    assert push.key == "p:q:q"
    assert message["headers"]["task"] == EXECUTE_CHUNK
    assert json.loads(base64.b64decode(message["body"])) == [[ids], {}, EMBED]


def test_for_run_defaults_to_the_execute_task() -> None:
    envelope = Envelope.for_run(RUN_ID, 1, queue="q", name="add", argsrepr="{}")
    assert envelope.task == EXECUTE_RUN
    assert envelope.args == [RUN_ID, 1]
    assert envelope.priority == 0
    assert envelope.eta is None


@pytest.mark.parametrize(
    ("broker_url", "direct"),
    [
        (None, True),
        (REDIS, True),
        ("amqp://guest:guest@127.0.0.1:1//", False),
        ("redis://127.0.0.1:2/0", False),  # another Redis: publish through Celery
    ],
)
def test_dispatcher_is_direct_only_when_the_broker_is_the_ledger_redis(
    no_network: None, broker_url: str | None, direct: bool
) -> None:
    settings = Settings(redis_url=REDIS, broker_url=broker_url)
    app = create_app(settings)  # builds lazily: no connection (no_network would fail it)
    dispatcher = Dispatcher(app, settings)
    assert dispatcher.direct is direct
    envelope = Envelope.for_run(RUN_ID, 1, queue="q", name="add", argsrepr="{}")
    push = dispatcher.push_for(envelope)
    assert (push is not None) is direct


def test_dispatcher_without_any_url_is_direct_without_starting_redis(no_network: None) -> None:
    # With no broker URL the decision needs no Redis URL: the embedded Redis is not started.
    settings = Settings(redis_url=None, broker_url=None)
    dispatcher = Dispatcher(Celery("unused", set_as_current=False), settings)
    assert dispatcher.direct is True
