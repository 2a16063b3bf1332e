"""The worker's batch fetch (store/batch_fetch.py, fetch_batch.lua) against a real Redis:
what it takes, in which order, what it records as unacked, and that nothing it took is left
outside Redis's lists when delivery fails."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue

from tasks_core.celery_app import create_app
from tasks_core.process_runtime import get_runtime
from tasks_core.store import batch_fetch, transport
from tasks_core.store.batch_fetch import BATCH_MAX, BatchQoS, fetch_batch, room
from tasks_core.store.transport import Channel
from tests.helpers import wait_until
from tests.integration import sample_tasks as t


def _connection() -> Connection:
    """A broker connection of this test's stack (its own key prefix: `get_app` is cached
    with the first test's)."""
    return create_app().connection_for_read()


def _publish(conn: Connection, queue: Queue, bodies: list[Any], priority: int = 0) -> None:
    producer = Producer(conn.default_channel, exchange=queue.exchange,
                        routing_key=queue.routing_key)
    for body in bodies:
        producer.publish(body, serializer="json", declare=[queue], priority=priority)


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def _lists(channel: Channel, names: list[str]) -> list[str]:
    return [channel._q_for_pri(name, pri) for pri in channel.priority_steps
            for name in names]


def _fetch(channel: Channel, names: list[str], limit: int,
           envelope: bytes | None = None) -> tuple[str, list[Any]]:
    return fetch_batch(channel._plain_client(), prefix=channel.global_keyprefix,
                       unacked_index=channel.unacked_index_key, unacked=channel.unacked_key,
                       lists=_lists(channel, names), width=len(names), limit=limit,
                       envelope=envelope)


def test_the_fetch_records_each_message_as_kombu_does(tc_env: dict[str, Any]) -> None:
    client = tc_env["client"]
    with _connection() as conn:
        channel = conn.default_channel
        assert isinstance(channel, Channel)
        queue = _queue("fetch-a")
        _publish(conn, queue, [{"n": i} for i in range(5)])
        first, taken = _fetch(channel, ["fetch-a"], 3)
        assert first == ""
        # FIFO like BRPOP: the oldest first; two left on the list
        assert [_body(channel, f)["n"] for f in taken] == [0, 1, 2]
        assert client.llen(f"{channel.global_keyprefix}fetch-a") == 2
        prefix = channel.global_keyprefix
        recorded = client.hgetall(f"{prefix}{channel.unacked_key}")
        assert set(recorded) == {f.tag for f in taken}
        assert client.zcard(f"{prefix}{channel.unacked_index_key}") == 3
        for fetched in taken:
            envelope, exchange, routing_key = json.loads(recorded[fetched.tag])
            assert envelope == json.loads(fetched.envelope)
            assert (exchange, routing_key) == ("fetch-a", "fetch-a")
        # kombu's own restore takes the record back onto the queue, unchanged
        channel.qos.restore_by_tag(taken[0].tag)
        assert client.llen(f"{prefix}fetch-a") == 3
        assert client.hlen(f"{prefix}{channel.unacked_key}") == 2


def test_the_fetch_takes_by_priority_then_in_turn(tc_env: dict[str, Any]) -> None:
    with _connection() as conn:
        channel = conn.default_channel
        a, b = _queue("fetch-pa"), _queue("fetch-pb")
        _publish(conn, a, [{"q": "a", "n": i} for i in range(3)])
        _publish(conn, b, [{"q": "b", "n": i} for i in range(3)])
        _publish(conn, b, [{"q": "b-urgent"}], priority=0)  # same step as the others
        _publish(conn, a, [{"q": "a-low", "n": 0}], priority=9)
        _, taken = _fetch(channel, ["fetch-pa", "fetch-pb"], 8)
        order = [_body(channel, f) for f in taken]
        # step 0: the two queues in turn, one message each; step 9 only once both are empty
        assert [o["q"] for o in order] == ["a", "b", "a", "b", "a", "b", "b-urgent", "a-low"]


def _body(channel: Channel, fetched: Any) -> Any:
    payload = channel._checked(fetched.key, fetched.key.split(channel.sep)[0],
                               fetched.envelope)
    assert payload is not None
    return json.loads(base64.b64decode(payload["body"]))


def test_a_message_kombu_cannot_take_is_returned_unrecorded(tc_env: dict[str, Any]) -> None:
    client = tc_env["client"]
    with _connection() as conn:
        channel = conn.default_channel
        prefix = channel.global_keyprefix
        for junk in (b"not json", b'{"properties": {}}', b"[1, 2]",
                     b'{"properties": {"delivery_tag": "t", "delivery_info": {"exchange": 3}}}'):
            client.lpush(f"{prefix}fetch-junk", junk)
        _, taken = _fetch(channel, ["fetch-junk"], 10)
        assert len(taken) == 4
        assert {f.tag for f in taken} == {""}
        assert client.hlen(f"{prefix}{channel.unacked_key}") == 0
        assert client.zcard(f"{prefix}{channel.unacked_index_key}") == 0


def test_the_brpop_message_is_recorded_with_the_batch(tc_env: dict[str, Any]) -> None:
    client = tc_env["client"]
    with _connection() as conn:
        channel = conn.default_channel
        prefix = channel.global_keyprefix
        queue = _queue("fetch-first")
        _publish(conn, queue, [{"n": i} for i in range(2)])
        envelope = client.rpop(f"{prefix}fetch-first")
        first, taken = _fetch(channel, ["fetch-first"], 0, envelope)
        assert first == json.loads(envelope)["properties"]["delivery_tag"]
        assert taken == []
        assert client.hexists(f"{prefix}{channel.unacked_key}", first)
        assert client.llen(f"{prefix}fetch-first") == 1


def test_room_follows_the_prefetch_limit(tc_env: dict[str, Any]) -> None:
    with _connection() as conn:
        qos = conn.default_channel.qos
        assert isinstance(qos, BatchQoS)
        qos.prefetch_count = 8
        assert room(qos, holding=1) == 7
        qos.prefetch_count = 0  # no limit
        assert room(qos, holding=1) == BATCH_MAX
        qos.prefetch_count = 1
        assert room(qos, holding=1) == 0
        qos.prefetch_count = 8
        qos.can_consume = lambda: True  # Celery's worker_disable_prefetch does this
        assert room(qos, holding=1) == 0


def test_a_consumer_gets_every_message_once_and_acks_leave_nothing(
        tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client = tc_env["client"]
    queue = _queue("fetch-consume")
    got: list[Any] = []
    batches: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        first, taken = fetch_batch(*args, **kwargs)
        batches.append(len(taken))
        return first, taken

    monkeypatch.setattr(transport, "fetch_batch", counted)
    with _connection() as conn:
        prefix = conn.default_channel.global_keyprefix
        _publish(conn, queue, [{"n": i} for i in range(40)])
        with Consumer(conn, [queue], accept=["json"], prefetch_count=5) as consumer:
            pending: list[Any] = []
            recorded: list[int] = []

            def on_message(body: Any, message: Any) -> None:
                got.append(body["n"])
                pending.append(message)
                recorded.append(client.hlen(f"{prefix}{conn.default_channel.unacked_key}"))
                if len(pending) >= 5 or len(got) == 40:
                    for held in pending:
                        held.ack()
                    pending.clear()

            consumer.register_callback(on_message)
            while len(got) < 40:
                conn.drain_events(timeout=5)
    assert sorted(got) == list(range(40))
    assert max(recorded) == 5  # never more taken than the prefetch limit
    assert max(batches) == 4  # a BRPOP's message and four more: the prefetch limit of 5
    assert len(batches) < 40
    assert client.hlen(f"{prefix}unacked") == 0
    assert client.zcard(f"{prefix}unacked_index") == 0


def test_what_was_fetched_but_not_delivered_goes_back(tc_env: dict[str, Any]) -> None:
    client = tc_env["client"]
    queue = _queue("fetch-fail")
    with _connection() as conn:
        channel = conn.default_channel
        prefix = channel.global_keyprefix
        _publish(conn, queue, [{"n": i} for i in range(6)])
        seen: list[int] = []

        def on_message(body: Any, message: Any) -> None:
            seen.append(body["n"])
            if len(seen) == 2:
                raise ConnectionError("the connection dropped while delivering")

        with Consumer(conn, [queue], accept=["json"], prefetch_count=6,
                      callbacks=[on_message]), pytest.raises(ConnectionError):
            conn.drain_events(timeout=5)
        # the two handed over stay unacked (kombu restores them at close); the four the
        # fetch took with them went straight back to the queue
        assert seen == [0, 1]
        assert client.llen(f"{prefix}fetch-fail") == 4
        assert client.hlen(f"{prefix}unacked") == 2
    assert client.llen(f"{prefix}fetch-fail") + client.hlen(f"{prefix}unacked") == 6


@pytest.mark.parametrize("fails", ["callback", "message"])
def test_a_message_the_consumer_fails_on_is_set_aside_and_unrecorded(
        tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, fails: str) -> None:
    """The consumer raising on one message of a batch, in the callback (after kombu's
    append) or while kombu builds the message (before it): that message is set aside and
    its unacked record removed, the others are delivered."""
    client = tc_env["client"]
    queue = _queue("fetch-bad")
    got: list[int] = []
    with _connection() as conn:
        channel = conn.default_channel
        prefix = channel.global_keyprefix
        _publish(conn, queue, [{"n": i} for i in range(4)])
        if fails == "message":
            class Failing(channel.Message):  # type: ignore[name-defined,misc]
                def __init__(self, payload: Any, **kwargs: Any) -> None:
                    if json.loads(base64.b64decode(payload["body"]))["n"] == 1:
                        raise ValueError("cannot build this one")
                    super().__init__(payload, **kwargs)

            monkeypatch.setattr(channel, "Message", Failing)

        def on_message(body: Any, message: Any) -> None:
            if body["n"] == 1 and fails == "callback":
                raise ValueError("cannot take this one")
            got.append(body["n"])
            message.ack()

        with Consumer(conn, [queue], accept=["json"], prefetch_count=4,
                      callbacks=[on_message]):
            while len(got) < 3:
                conn.drain_events(timeout=5)
        assert got == [0, 2, 3]
        assert client.llen(f"{prefix}fetch-bad") == 0
        entries = get_runtime().deadletters.entries()
        assert len(entries) == 1
        assert "cannot" in entries[0].reason
        assert json.loads(base64.b64decode(json.loads(entries[0].raw)["body"]))["n"] == 1
    assert client.hlen(f"{prefix}unacked") == 0  # acks written at the latest at close
    assert client.llen(f"{prefix}fetch-bad") == 0


def test_acks_are_written_together_before_the_next_fetch(tc_env: dict[str, Any]) -> None:
    client = tc_env["client"]
    queue = _queue("fetch-acks")
    held: list[Any] = []
    with _connection() as conn:
        channel = conn.default_channel
        prefix = channel.global_keyprefix
        unacked = f"{prefix}{channel.unacked_key}"
        _publish(conn, queue, [{"n": i} for i in range(6)])
        with Consumer(conn, [queue], accept=["json"], prefetch_count=6,
                      callbacks=[lambda body, message: held.append(message)]):
            while len(held) < 6:
                conn.drain_events(timeout=5)
            assert client.hlen(unacked) == 6
            for message in held[:3]:
                message.ack()
            # no fetch pending (the prefetch limit was reached): the records stay for now
            assert client.hlen(unacked) == 6
            assert client.zcard(f"{prefix}{channel.unacked_index_key}") == 6
            with pytest.raises(TimeoutError):  # the next fetch writes them first
                conn.drain_events(timeout=0.2)
            assert client.hlen(unacked) == 3
            assert client.zcard(f"{prefix}{channel.unacked_index_key}") == 3
            assert channel._in_poll  # now waiting for messages: an ack is written at once
            held[3].ack()
            assert client.hlen(unacked) == 2
            held[4].ack()
            held[4].channel.qos._acks.append("unknown-tag")  # harmless: nothing to remove
    # closing writes what was left and gives the one never acked back to its queue
    assert client.hlen(unacked) == 0
    assert client.zcard(f"{prefix}unacked_index") == 0
    assert client.llen(f"{prefix}fetch-acks") == 1


def test_a_worker_writes_an_ack_soon_while_it_waits_for_room(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    """A real worker (concurrency 1: prefetch 4, fetching again at 2 free) holding three
    long runs acks a short one within the timer's interval, though no fetch follows."""
    client = tc_env["client"]
    unacked = f"{tc_env['prefix']}:q:unacked"
    quick = t.add.delay(1, 1)
    slow = [t.record_pid_and_sleep.delay(f"slow-{i}", 4) for i in range(3)]
    start_worker(concurrency=1)
    assert quick.result(timeout=20) == 2
    wait_until(lambda: client.hlen(unacked) == 3, 2, message="the short run's ack")
    assert not any(get_runtime().store.get(f.id).is_terminal for f in slow)


def test_the_fetch_waits_for_room_only_while_work_waits(
        tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The half-free rule never leaves a process idle: with prefetch multiplier 1 (every
    held task running) or ETA tasks raising the limit, a fetch is allowed as soon as fewer
    tasks wait than run (Celery's worker.state)."""
    reserved: set[str] = set()
    active: set[str] = set()
    monkeypatch.setattr(batch_fetch.worker_state, "reserved_requests", reserved)
    monkeypatch.setattr(batch_fetch.worker_state, "active_requests", active)
    with _connection() as conn:
        qos = conn.default_channel.qos
        assert isinstance(qos, BatchQoS)

        def hold(n: int) -> None:
            qos._delivered.clear()
            qos._dirty.clear()
            for i in range(n):
                qos._delivered[f"tag-{i}"] = object()

        def work(running: int, waiting: int) -> None:
            active.clear()
            reserved.clear()
            active.update(f"a{i}" for i in range(running))
            reserved.update(active, (f"w{i}" for i in range(waiting)))

        qos.prefetch_count = 8  # -c 2, multiplier 4
        hold(5)
        work(running=2, waiting=3)
        assert not qos.can_consume()  # 3 free of 8, work waiting: wait for 4
        hold(4)
        work(running=2, waiting=2)
        assert qos.can_consume()  # half free
        qos.prefetch_count = 8  # -c 8, multiplier 1: every held task runs
        hold(7)
        work(running=7, waiting=0)
        assert qos.can_consume()
        qos.prefetch_count = 12  # -c 2, multiplier 4, four ETA tasks held (limit raised)
        hold(9)  # 4 ETA + 2 running + 3 waiting
        work(running=2, waiting=3)
        assert not qos.can_consume()
        hold(7)  # 4 ETA + 2 running + 1 waiting
        work(running=2, waiting=1)
        assert qos.can_consume()
        hold(12)
        assert not qos.can_consume()  # the prefetch limit itself, as kombu
        qos._delivered.clear()


def test_a_consumer_without_acks_gets_no_records(tc_env: dict[str, Any]) -> None:
    """kombu records nothing for a ``no_ack`` consumer (its pidbox replies): neither does
    the fetch, and nothing is left in ``unacked``."""
    client = tc_env["client"]
    queue = _queue("fetch-noack")
    got: list[int] = []
    with _connection() as conn:
        prefix = conn.default_channel.global_keyprefix
        _publish(conn, queue, [{"n": i} for i in range(6)])
        with Consumer(conn, [queue], accept=["json"], no_ack=True,
                      callbacks=[lambda body, message: got.append(body["n"])]):
            while len(got) < 6:
                conn.drain_events(timeout=5)
            assert client.hlen(f"{prefix}unacked") == 0
            assert client.zcard(f"{prefix}unacked_index") == 0
    assert got == list(range(6))
    assert client.hlen(f"{prefix}unacked") == 0


def test_strategies_other_than_round_robin_take_the_lists_in_order(
        tc_env: dict[str, Any]) -> None:
    client = tc_env["client"]
    with _connection() as conn:
        channel = conn.default_channel
        a, b = _queue("fetch-oa"), _queue("fetch-ob")
        _publish(conn, a, [{"q": "a", "n": i} for i in range(2)])
        _publish(conn, b, [{"q": "b", "n": i} for i in range(2)])
        with Consumer(conn, [a, b], accept=["json"], prefetch_count=5):
            channel.queue_order_strategy = "priority"  # kombu's: the queues in their order
            _, taken = channel._fetch(None)
            channel.queue_order_strategy = "round_robin"
        assert [_body(channel, f)["q"] for f in taken] == ["a", "a", "b", "b"]
        # a list key of another type is skipped, not an error that drops what was popped
        client.set(f"{channel.global_keyprefix}fetch-oc", "not a list")
        _publish(conn, b, [{"q": "b", "n": 9}])
        _, taken = _fetch(channel, ["fetch-oc", "fetch-ob"], 4)
        assert [_body(channel, f)["n"] for f in taken] == [9]


def test_a_requeue_after_an_ack_does_not_bring_the_acked_message_back(
        tc_env: dict[str, Any]) -> None:
    client = tc_env["client"]
    queue = _queue("fetch-recover")
    held: list[Any] = []
    with _connection() as conn:
        channel = conn.default_channel
        prefix = channel.global_keyprefix
        _publish(conn, queue, [{"n": i} for i in range(3)])
        with Consumer(conn, [queue], accept=["json"], prefetch_count=3,
                      callbacks=[lambda body, message: held.append(message)]):
            while len(held) < 3:
                conn.drain_events(timeout=5)
            held[0].ack()  # deferred: no fetch pending
            assert client.hlen(f"{prefix}unacked") == 3
            channel.qos.restore_unacked()  # kombu's basic_recover(requeue=True)
        assert client.llen(f"{prefix}fetch-recover") == 2  # the two never acked
        assert client.hlen(f"{prefix}unacked") == 0


@pytest.mark.parametrize("pool_impl", ["threads", "solo"])
def test_workers_of_other_pools_fetch_and_ack_everything(
        tc_env: dict[str, Any], start_worker: Any, pool_impl: str) -> None:
    """Celery's threads pool acks from its threads (the acks are written from there, the
    event loop's timers are not theirs to arm); solo acks in the loop itself."""
    client = tc_env["client"]
    futures = [t.add.delay(i, 1) for i in range(60)]
    worker = start_worker(concurrency=1, extra=("--pool-impl", pool_impl))
    assert [f.result(timeout=60) for f in futures] == [i + 1 for i in range(60)]
    wait_until(lambda: client.hlen(f"{tc_env['prefix']}:q:unacked") == 0, 5,
               message="every ack written")
    assert "Traceback" not in worker.output()
