"""Pure checks of received messages, dead-letter entries, the broker config and exit codes."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest

from tasks_core.celery_app import GUARDED_TRANSPORT, broker_config, create_app
from tasks_core.dispatch import Envelope, redis_push
from tasks_core.messages import (
    DeadLetter,
    Delivery,
    args_problem,
    body_problem,
    decoded_body,
    envelope_problem,
    raw_bytes,
)
from tasks_core.settings import Settings
from tasks_core.store.keys import Keys
from workers.consumer import raw_message
from workers.main import exit_code


def _good() -> dict[str, Any]:
    push = redis_push(Envelope.for_run("r1", 1, queue="q", name="add", argsrepr=""), Keys("p"))
    return json.loads(push.payload)  # type: ignore[no-any-return]


def test_our_own_messages_pass_every_check() -> None:
    message = _good()
    assert envelope_problem(message) is None
    body = json.loads(base64.b64decode(message["body"]))
    assert body_problem(body) is None
    assert args_problem(message["headers"]["task"], body[0], body[1]) is None


@pytest.mark.parametrize(("change", "reason"), [
    (lambda m: [m], "a JSON array"),
    (lambda m: "text", "a JSON string"),
    (lambda m: {**m, "properties": None}, "no 'properties'"),
    (lambda m: {**m, "properties": {k: v for k, v in m["properties"].items()
                                    if k != "delivery_tag"}}, "delivery_tag"),
    (lambda m: {**m, "properties": {**m["properties"], "delivery_info": {}}}, "delivery_info"),
    (lambda m: {**m, "body": 12}, "'body' is a JSON number"),
    (lambda m: {**m, "body": "!!x"}, "not valid base64"),
    (lambda m: {**m, "properties": {**m["properties"], "body_encoding": "rot13"}},
     "unknown body encoding"),
])
def test_envelope_problems(change: Any, reason: str) -> None:
    problem = envelope_problem(change(_good()))
    assert problem is not None and reason in problem


def test_a_text_body_needs_no_decoding() -> None:
    message = {**_good(), "body": "[[], {}, {}]"}
    message["properties"] = {**message["properties"], "body_encoding": "utf-8"}
    assert envelope_problem(message) is None


@pytest.mark.parametrize(("body", "reason"), [
    ("text", "not [args, kwargs, embed]"),
    ([[], {}], "not [args, kwargs, embed]"),
    ([{}, {}, {}], "args are not a list"),
    ([[], [], {}], "kwargs are not an object"),
    ([[], {}, 3], "embed is not an object"),
])
def test_body_problems(body: Any, reason: str) -> None:
    problem = body_problem(body)
    assert problem is not None and reason in problem
    assert body_problem([[], {}, None]) is None


@pytest.mark.parametrize(("task", "args", "kwargs", "ok"), [
    ("tasks_core.run", ["r"], {}, True),
    ("tasks_core.run", ["r", 2], {}, True),
    ("tasks_core.run_flow", ["r", 1], {}, True),
    ("tasks_core.run", [], {}, False),
    ("tasks_core.run", ["r", 1, 2], {}, False),
    ("tasks_core.run", [1, 1], {}, False),
    ("tasks_core.run", [" ", 1], {}, False),
    ("tasks_core.run", ["r", "1"], {}, False),
    ("tasks_core.run", ["r", True], {}, False),
    ("tasks_core.run", ["r", 0], {}, False),
    ("tasks_core.run", ["r", 1], {"attempt": 1}, False),
    ("tasks_core.run_flow", [None], {}, False),
    ("tasks_core.run_chunk", [["a", "b"]], {}, True),
    ("tasks_core.run_chunk", [[]], {}, False),
    ("tasks_core.run_chunk", ["a", "b"], {}, False),
    ("tasks_core.run_chunk", [["a", 2]], {}, False),
    ("tasks_core.run_chunk", [["a"]], {"x": 1}, False),
    ("somebody.elses", [object()], {"x": 1}, True),  # not ours to check
])
def test_args_of_our_tasks(task: str, args: list[Any], kwargs: dict[str, Any],
                           ok: bool) -> None:
    assert (args_problem(task, args, kwargs) is None) is ok


def test_dead_letter_round_trips_text_and_bytes() -> None:
    text = DeadLetter.new("why", queue="q", raw="{bad", stage="transport", priority=12, now=5.0)
    assert text.priority == 9 and text.time == 5.0 and len(text.id) == 32
    assert DeadLetter.from_json(text.to_json()) == text
    assert raw_bytes(text) == b"{bad"
    binary = DeadLetter.new("why", queue="q", raw=b"\xff\x00", stage="transport")
    assert binary.raw_encoding == "base64"
    assert raw_bytes(DeadLetter.from_json(binary.to_json())) == b"\xff\x00"
    assert DeadLetter.new("w", queue="q", raw="", stage="claim", priority="x").priority == 0


def test_decoded_body() -> None:
    good = DeadLetter.new("w", queue="q", raw=json.dumps(_good()), stage="consumer")
    assert json.loads(decoded_body(good) or "") == [["r1", 1], {}, {
        "callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    assert decoded_body(DeadLetter.new("w", queue="q", raw="{bad", stage="transport")) is None


def test_delivery_names_its_runs() -> None:
    assert Delivery("tasks_core.run", "q", args=("r1", 1)).names("r1")
    assert not Delivery("tasks_core.run", "q", args=("r1", 1)).names("r2")
    assert Delivery("tasks_core.run_chunk", "q", args=(["a", "b"],)).names("b")
    assert not Delivery("tasks_core.run_chunk", "q", args=()).names("b")


def test_raw_message_of_a_non_redis_message_is_an_envelope() -> None:
    message = SimpleNamespace(body=b'[["r", 1], {}, {}]', properties={"priority": 3},
                              delivery_info={"routing_key": "q", "exchange": ""},
                              delivery_tag=7, content_type="application/json",
                              content_encoding="utf-8", headers={"task": "tasks_core.run"})
    raw = json.loads(raw_message(message))
    assert envelope_problem(raw) is None
    assert base64.b64decode(raw["body"]) == message.body
    kombu_like = SimpleNamespace(_raw={"body": "x", "properties": {}})
    assert json.loads(raw_message(kombu_like)) == kombu_like._raw


def test_broker_config_prefixes_redis_brokers_only() -> None:
    redis = broker_config(Settings(redis_url="redis://h:1/0", key_prefix="stack"))
    assert redis == {"broker_transport": GUARDED_TRANSPORT,
                     "broker_transport_options": {"global_keyprefix": "stack:q:"}}
    rediss = broker_config(Settings(redis_url="redis://h:1/0",
                                    broker_url="rediss://h:2/0"))
    assert rediss["broker_transport"] == GUARDED_TRANSPORT
    amqp = broker_config(Settings(redis_url="redis://h:1/0", broker_url="amqp://h//"))
    assert amqp == {}  # isolation there is a virtual host per stack
    app = create_app(Settings(redis_url="redis://h:1/0", key_prefix="stack"))
    assert app.conf.broker_transport_options["global_keyprefix"] == "stack:q:"


@pytest.mark.parametrize(("code", "controller", "expected"), [
    (None, SimpleNamespace(exitcode=0), 0),
    (None, SimpleNamespace(exitcode=None), 0),
    (None, SimpleNamespace(exitcode=1), 1),  # "Unrecoverable error": Celery dropped it
    (2, SimpleNamespace(exitcode=0), 2),
    (None, None, 1),  # no worker was ever built
])
def test_exit_code(code: int | None, controller: Any, expected: int) -> None:
    assert exit_code(code, controller) == expected
