"""kombu's Redis transport, guarded: a message it cannot decode is set aside, not fatal.

kombu's `Channel._brpop_read` pops a message (BRPOP) and decodes it outside any guard: a
payload that is not JSON, not kombu's envelope, or whose body does not decode raises out
of the worker's event loop ("Unrecoverable error"), and the popped message, already in
no list, is lost. This channel checks what it popped first (`messages.envelope_problem`,
then the body decoded as kombu will), and moves anything undeliverable to the dead-letter
list (`DeadLetterStore`) with the reason, the queue and the exact payload; the worker
keeps consuming. Should the dead-letter write fail, the message is pushed back onto its
list rather than dropped.

An exception the consumer raises while taking a well-formed message (a bug, never a
message's fault in Celery's own checks) is caught the same way: the message, by then in
kombu's ``unacked`` hash, is set aside and acked, so it cannot kill every worker it is
redelivered to. Connection errors pass through untouched: kombu reconnects on them.

Celery's purge (``celery -A tasks_core purge``, ``app.control.purge()``) of a queue takes
its messages and deletes them in one transaction, then hands the run ids they carried to
`on_purged` (`engine.cancel.cancel_purged`, installed here with the transport: cancel
those runs, "purged"), so beat's sweeper does not send a purged run again and no worker
runs it later, as a purge means.

The channel also fetches in batches and writes acks together (`batch_fetch.BatchQoS`,
fetch_batch.lua): after a BRPOP, one script records its message as unacked and takes up to
the free prefetch room more, each moved straight into kombu's unacked records.

Selected by `celery_app.broker_config` (Celery's ``broker_transport``) for ``redis://``
and ``rediss://`` broker URLs, so users keep their URLs.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import ssl
import threading
from collections.abc import Callable
from queue import Empty
from typing import Any, cast

import redis
from kombu.transport import redis as kombu_redis
from kombu.utils import json as kombu_json

from tasks_core.engine.cancel import cancel_purged
from tasks_core.errors import ValidationError
from tasks_core.messages import DeadLetter, envelope_problem, raw_bytes
from tasks_core.settings import get_settings
from tasks_core.store.batch_fetch import BatchQoS, Fetched, fetch_batch, room
from tasks_core.store.connection import connect, refuses_writes
from tasks_core.store.deadletters import DeadLetterStore
from tasks_core.store.keys import Keys, kombu_queue

__all__ = ["Channel", "Transport", "on_purged", "requeue_via_broker"]

log = logging.getLogger("tasks_core.worker")

_loads = cast(Any, kombu_json.loads)  # kombu's JSON (its own types), as kombu decodes


on_purged: list[Callable[[list[str]], None]] = [cancel_purged]
"""Called with the run ids of purged messages: Celery's purge cancels the purged runs. Set
where the transport is defined, so it holds whenever kombu loads this transport (a worker,
``celery -A tasks_core purge``), whatever else was imported."""


_CHUNK_TASK = "tasks_core.run_chunk"  # celery_app.EXECUTE_CHUNK: args [[run_id, ...]]


def _run_ids(item: bytes | str) -> list[str]:
    """The run ids a queued tasks-core message carries: its Celery task id, or the runs of
    a ``.map()`` chunk; none for a message that is not ours."""
    try:
        payload = _loads(_text_of(item))
        headers = payload.get("headers", {})
        if headers.get("task") == _CHUNK_TASK:
            args = _loads(base64.b64decode(payload["body"]))[0]
            return [run_id for run_id in args[0] if isinstance(run_id, str)]
        run_id = headers.get("id")
    except Exception:  # not a message of ours: nothing to cancel
        return []
    return [run_id] if isinstance(run_id, str) and run_id else []


def _text_of(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _deadletters() -> DeadLetterStore:
    settings = get_settings()
    return DeadLetterStore(connect(settings), Keys(settings.key_prefix),
                           max_entries=settings.deadletter_max)


class Channel(kombu_redis.Channel):
    """kombu's Redis channel whose BRPOP reader never lets a message kill the worker, and
    that keeps one synchronous client instead of building one per command."""

    QoS = BatchQoS
    _sync_client: Any = None
    _unprefixed: Any = None
    _no_ack_tags: frozenset[str] | set[str] = frozenset()

    def _create_client(self, asynchronous: bool = False) -> Any:
        """kombu 5.7 builds a new ``redis.Redis`` on its connection pool for every
        synchronous use (`conn_or_acquire`: each publish, and the unacked index written when
        a message is delivered and again when it is acked). Its constructor copies redis-py's
        response callbacks into a new dict, about 0.23 ms each on this project's benchmark
        machine (2026-11-29), twice per task in the worker's main process. The client holds
        no connection of its own (each command borrows one from the pool), so one client per
        channel and pool does the same work; a new pool (kombu drops its pools on
        disconnect) gets a new client.

        A channel closed after its connection was lost (Celery's consumer releases the
        connection, and kombu's close then restores the unacked messages) cannot build a
        pool any more: kombu's transport has dropped its connection info, and building one
        raises AttributeError, which stops the worker ("Unrecoverable error", kombu#970).
        The client of the pool kombu just dropped is used instead (a redis-py pool
        reconnects on use): the restore then works when Redis is back, or fails with a
        connection error, which Celery's consumer expects."""
        create = cast(Any, super())._create_client
        if asynchronous:
            return create(asynchronous=True)
        try:
            pool = self.pool
        except AttributeError:
            if self._sync_client is None:
                raise
            return self._sync_client
        client = self._sync_client
        if client is None or client.connection_pool is not pool:
            client = self._sync_client = create()
        return client

    def _purge(self, queue: str) -> int:
        """kombu's purge of `queue` (every priority list), its messages read and deleted in
        one MULTI/EXEC, then their runs handed to `on_purged`; the number purged."""
        with self.conn_or_acquire() as client, client.pipeline(transaction=True) as pipe:
            for priority in self.priority_steps:
                name = cast(Any, self)._q_for_pri(queue, priority)
                # kombu prefixes DEL itself (global_keyprefix), not LRANGE
                pipe.lrange(f"{self.global_keyprefix}{name}", 0, -1)
                pipe.delete(name)
            replies = pipe.execute()
        items = [item for listed in replies[::2] for item in listed]
        run_ids = [run_id for item in items for run_id in _run_ids(item)]
        for handler in on_purged:
            if run_ids:
                handler(run_ids)
        return len(items)

    def _brpop_read(self, **options: Any) -> bool:
        # kombu 5.7's _brpop_read, with the payload checked before it is delivered, and
        # the message recorded as unacked together with a batch more (batch_fetch)
        try:
            try:
                dest__item = self.client.parse_response(self.client.connection, "BRPOP",
                                                        **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            if not dest__item:
                raise Empty()
            dest, item = dest__item
            dest = _text_of(dest)
        finally:
            self._in_poll = cast(Any, None)
            cast(Any, self)._flush_brpop_reauth()
        self._take(dest, item)
        return True

    def basic_consume(self, queue: str, no_ack: bool, callback: Any, consumer_tag: str,
                      **kwargs: Any) -> Any:
        """kombu's, remembering the consumers that take no acks (kombu records nothing for
        their messages: neither may the batch fetch)."""
        if no_ack:
            self._no_ack_tags = {*self._no_ack_tags, consumer_tag}
        return cast(Any, super()).basic_consume(queue, no_ack, callback, consumer_tag,
                                                **kwargs)

    def _batching(self) -> bool:
        """Whether this channel fetches in batches: kombu's ack emulation on (its QoS is
        ours) and no consumer without acks among its live ones (kombu's pidbox replies,
        ``no_ack``; kombu may cancel a consumer later than asked, after a read)."""
        return (isinstance(self.qos, BatchQoS)
                and not self._no_ack_tags & cast(Any, self)._consumers)

    def _brpop_start(self, timeout: Any = None) -> None:
        if isinstance(self.qos, BatchQoS):
            self.qos.flush_pending()  # the acks since the last fetch, together
        cast(Any, super())._brpop_start(timeout)

    def _take(self, dest: str, item: bytes) -> None:
        """Deliver the message BRPOP took from `dest`, and the batch fetched with it."""
        queue = dest.rsplit(self.sep, 1)[0]
        self._queue_cycle.rotate(queue)
        payload = self._checked(dest, queue, item)
        if not self._batching():  # kombu's own path
            if payload is not None:
                self._deliver_guarded(payload, dest, queue, item)
            return
        qos = cast(BatchQoS, self.qos)
        try:
            tag, batch = self._fetch(item if payload is not None else None)
        except self.connection_errors:
            raise  # as kombu's own unacked write: the message BRPOP took is not recorded
        except Exception:  # the script failed: kombu's own path for this one message
            log.exception("the batch fetch failed; taking one message")
            tag, batch = "", []
        mine = [tag] if tag else []
        mine += [fetched.tag for fetched in batch if fetched.tag]
        qos.recorded.update(mine)
        started = 0  # messages of the batch whose delivery began
        try:
            if payload is not None:
                self._deliver_guarded(payload, dest, queue, item)
            for fetched in batch:
                started += 1
                name = fetched.key.rsplit(self.sep, 1)[0]
                self._queue_cycle.rotate(name)
                taken = self._checked(fetched.key, name, fetched.envelope)
                if taken is None:  # set aside
                    if fetched.tag:
                        qos.forget(fetched.tag)
                    continue
                self._deliver_guarded(taken, fetched.key, name, fetched.envelope)
        except BaseException:
            # fetched, never handed to the consumer: back on their queues, in order
            qos.give_back([tag for tag in mine if tag in qos.recorded])
            # (one whose delivery began is where kombu leaves the message BRPOP took)
            self._push_back([f for f in batch[started:] if not f.tag])
            raise

    def _push_back(self, unrecorded: list[Fetched]) -> None:
        """Put messages the fetch took without recording them (envelopes the script could
        not read a delivery tag from) back where BRPOP takes from, in their order."""
        for fetched in reversed(unrecorded):
            try:
                self.client.rpush(fetched.key, fetched.envelope)
            except Exception:
                log.exception("could not push back a message taken from %s: %r",
                              fetched.key, fetched.envelope[:200])

    def _fetch(self, envelope: bytes | None) -> tuple[str, list[Fetched]]:
        qos = cast(BatchQoS, self.qos)
        queues = self._queue_cycle.consume(len(self.active_queues))
        lists = [cast(Any, self)._q_for_pri(queue, pri) for pri in self.priority_steps
                 for queue in queues]
        # kombu's round_robin rotates the queues after each message: the script takes
        # from them in turn; other strategies keep their order: one list after the other
        width = len(queues) if self.queue_order_strategy == "round_robin" else 1
        return fetch_batch(self._plain_client(), prefix=self.global_keyprefix or "",
                           unacked_index=self.unacked_index_key, unacked=self.unacked_key,
                           lists=lists, width=width,
                           limit=room(qos, holding=envelope is not None)
                           if queues and not self._closing else 0,
                           envelope=envelope)

    def _plain_client(self) -> redis.Redis:
        """A client on the channel's pool that does not add kombu's key prefix (the batch
        fetch names its keys in full): one per pool, as `_create_client`."""
        client = self._unprefixed
        if client is None or client.connection_pool is not self.pool:
            client = self._unprefixed = redis.Redis(connection_pool=self.pool)
        return cast(redis.Redis, client)

    def _checked(self, dest: str, queue: str, item: bytes) -> dict[str, Any] | None:
        """The decoded envelope, or None once an undeliverable one is set aside."""
        try:
            payload = _loads(_text_of(item))
            problem = envelope_problem(payload)  # what kombu's Message would die of
        except Exception as exc:  # anything kombu would have died of
            problem = f"undecodable message: {type(exc).__name__}: {exc}"
        if problem is None:
            return payload  # type: ignore[no-any-return]
        self._set_aside(dest, queue, item, problem, "transport")
        return None

    def _deliver_guarded(self, payload: dict[str, Any], dest: str, queue: str,
                         item: bytes) -> None:
        try:
            self.connection._deliver(payload, queue)
        except Exception as exc:
            # Redis full (OOM) refused the unacked record: kombu counts that a channel
            # error, which would stop the worker
            tag = payload["properties"]["delivery_tag"]
            if (refuses_writes(exc) and tag not in cast(Any, self.qos)._delivered
                    and self._deliver_unrecorded(payload, queue, exc)):
                return
            if isinstance(exc, (*self.connection_errors,
                                *cast(Any, self.connection).channel_errors)):
                raise
            # the consumer failed on this message
            log.exception("the consumer could not take a message from %s", queue)
            self._set_aside(dest, queue, item,
                            f"the worker could not take it: {type(exc).__name__}: {exc}",
                            "consumer", payload)
            qos = cast(Any, self.qos)
            if tag in qos._delivered:
                qos.ack(tag)  # set aside above: no redelivery that would fail again
            elif tag in getattr(qos, "recorded", ()):
                qos.forget(tag)  # recorded by the fetch, never delivered

    def _deliver_unrecorded(self, payload: dict[str, Any], queue: str, exc: Exception
                            ) -> bool:
        """Deliver a message taken off its queue that Redis refused to record as unacked
        (full: OOM), in memory only: it can be neither recorded nor pushed back, and its
        run's record is there (a worker dying meanwhile leaves the run Pending or Running
        under a dead process, which beat's sweeper sends again or recovers); True when it
        was delivered."""
        tag = payload["properties"]["delivery_tag"]
        qos = cast(Any, self.qos)
        log.warning("Redis refuses writes (%s): a message from %s is delivered without its "
                    "unacked record", str(exc)[:200], queue)
        qos.recorded.add(tag)
        try:
            self.connection._deliver(payload, queue)
        except Exception:
            qos.recorded.discard(tag)
            log.exception("the consumer could not take a message from %s", queue)
            return False
        return True

    def _set_aside(self, dest: str, queue: str, item: bytes, reason: str, stage: Any,
                   payload: dict[str, Any] | None = None) -> None:
        headers = (payload or {}).get("headers")
        headers = headers if isinstance(headers, dict) else {}
        step = dest[len(queue) + len(self.sep):] if dest != queue else "0"
        entry = DeadLetter.new(
            reason, queue=queue, raw=item, stage=stage,
            priority=int(step) if step.isdigit() else 0,
            task=_text(headers.get("task")), message_id=_text(headers.get("id")))
        try:
            _deadletters().add(entry)
        except Exception:  # never lose it: back onto its list, at the far end
            log.exception("could not set aside a message from %s (%s); pushed back", queue,
                          reason)
            self.client.lpush(dest, item)
            return
        log.error("message from queue %s set aside as dead letter %s: %s "
                  "(see `tasks-core deadletter inspect %s`)", queue, entry.id, reason, entry.id)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the guarded `Channel`; in an event loop (a worker's),
    its channels arm one-shot timers that write deferred acks (`BatchQoS.ack`)."""

    Channel = Channel
    event_loop: Any = None
    """The event loop this transport is registered with (Celery's hub), else None."""
    event_loop_thread: int | None = None
    """The thread that runs it (the only one that may arm its timers)."""

    def register_with_event_loop(self, connection: Any, loop: Any) -> None:
        cast(Any, super()).register_with_event_loop(connection, loop)
        self.event_loop = loop
        self.event_loop_thread = threading.get_ident()

    def unregister_from_event_loop(self, connection: Any, loop: Any) -> None:
        self.event_loop = None
        cast(Any, super()).unregister_from_event_loop(connection, loop)

    def __init__(self, client: Any, **kwargs: Any) -> None:
        # kombu applies this default only when its own alias 'rediss' names the transport
        if str(client.hostname or "").startswith("rediss://") and not client.ssl:
            log.warning("Secure redis scheme specified (rediss) with no ssl options, "
                        "defaulting to insecure SSL behaviour.")
            client.ssl = {"ssl_cert_reqs": ssl.CERT_NONE}
        cast(Any, super()).__init__(client, **kwargs)


def requeue_via_broker(app: Any, entry: DeadLetter) -> None:
    """Put a set-aside message back on its queue through the broker (a broker that is not
    the ledger's Redis): on Redis, its exact bytes onto its list (kombu adds the stack's
    prefix); elsewhere (RabbitMQ), its body, headers and properties published again.

    Raises:
        ValidationError: on a non-Redis broker, when the raw message is not an envelope
            (only a Redis transport can take a message that never decoded).
    """
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        if isinstance(channel, kombu_redis.Channel):
            channel.client.lpush(kombu_queue(entry.queue, entry.priority), raw_bytes(entry))
            return
        _publish_envelope(conn, entry)


def _publish_envelope(conn: Any, entry: DeadLetter) -> None:
    try:
        payload = json.loads(raw_bytes(entry))
        properties = dict(payload["properties"])
        body = payload.get("body") or ""
        if properties.get("body_encoding") == "base64":
            body = base64.b64decode(body)
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise ValidationError(
            f"dead letter {entry.id} is not a message envelope ({exc}); only a Redis broker "
            "can take it back as it is") from exc
    for name in ("delivery_info", "delivery_tag", "body_encoding"):
        properties.pop(name, None)
    conn.Producer().publish(
        body, exchange="", routing_key=entry.queue, headers=payload.get("headers") or {},
        content_type=payload.get("content-type"),
        content_encoding=payload.get("content-encoding"), retry=True, **properties)
