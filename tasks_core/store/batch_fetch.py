"""The worker's fetch and acks on Redis: a batch per fetch, the acks written together.

kombu's Redis transport takes one message per BRPOP and then records it as unacknowledged
(its ack emulation, `QoS.append`: a MULTI/EXEC writing ``unacked`` and ``unacked_index``),
and removes the record at the ack in another MULTI/EXEC: three round trips per message in
the worker's main process, and between the first two a window in which a crash loses the
message (off its list, not yet recorded).

Here (`BatchQoS`, used by `tasks_core.store.transport.Channel`):

- a worker that holds messages fetches again only once `LOW_WATER` of its prefetch limit is
  free (an idle one at once), so that a busy worker takes a batch rather than one message
  per ack, and never holds more than kombu would;
- after the BRPOP, fetch_batch.lua records its message and takes up to the room the
  prefetch limit leaves (`room`, at most `BATCH_MAX`) off the same lists, each recorded as
  it is popped: one BRPOP and one script per batch, and a message the script takes is never
  outside Redis's lists; `append` skips the write for a message already recorded;
- an ack frees the prefetch room at once; its Redis write waits for the next fetch (written
  before the BRPOP), at most `ACK_FLUSH_S` (the transport's timer in the worker's event
  loop), and is written at once while a BRPOP waits on an empty queue, at `ACKS_MAX`, and
  at shutdown.

The records are kombu's own, so its reject, shutdown restore and visibility-timeout restore
work on them unchanged. Issue 16 asked for this to be measured before it is kept ("a
consumer bootstep that fetches a batch with one atomic move"); SCALING.md has the figures.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis
from celery.worker import state as worker_state
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

from tasks_core.store.base import load_lua

__all__ = ["ACKS_MAX", "ACK_FLUSH_S", "BATCH_MAX", "LOW_WATER", "BatchQoS", "Fetched",
           "fetch_batch", "room"]

log = logging.getLogger("tasks_core.worker")

BATCH_MAX = 32
"""Most messages one fetch takes beyond the BRPOP's (without a prefetch limit, the whole
batch; with one, the room it leaves, whichever is smaller)."""

LOW_WATER = 0.5
"""A worker that holds messages fetches again once this share of its prefetch limit is free
(`BatchQoS.can_consume`)."""

ACK_FLUSH_S = 0.02
"""Longest an ack's Redis write waits in a worker's event loop (a one-shot timer); without
one (a plain kombu consumer, Celery's loop for the eventlet and gevent pools), at the
loop's next turn after that."""

ACKS_MAX = 64
"""Acks written at once when this many wait."""

ACKS_KEPT = 100_000
"""Most acks kept for the next flush while Redis cannot be reached (the oldest are left to
kombu's visibility timeout)."""

_SCRIPT = load_lua("fetch_batch.lua")


@dataclass(frozen=True)
class Fetched:
    """One message the script took: its list (with the prefix), envelope and delivery tag
    ('' when the script could not record it: not an envelope kombu can take)."""

    key: str
    envelope: bytes
    tag: str


class BatchQoS(kombu_redis.QoS):
    """kombu's Redis QoS that does not write again what the fetch script recorded, fetches
    a batch at a time while work waits, and writes acks together."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cast(Any, super()).__init__(*args, **kwargs)
        self.recorded: set[str] = set()
        """Delivery tags fetch_batch.lua recorded in ``unacked``, not yet delivered."""
        self._acks: list[str] = []
        self._acks_since = 0.0  # monotonic time of the oldest ack not yet written
        self._acks_lock = threading.Lock()  # acks may come from pool threads (threads pool)
        self._timer: Any = None  # the armed one-shot flush (an event loop's), or None
        self._warned = 0.0
        self._backoff = 0.0  # after a failed flush: the next try's delay (seconds)
        self._retry_at = 0.0  # monotonic time before which the loop does not try again

    def can_consume(self) -> bool:
        """Whether to fetch now: as kombu's (fewer messages held than the prefetch limit),
        except that while the worker has work waiting (at least one task received and not
        yet started per task running: Celery's ``worker.state``; ETA tasks not yet due are
        not counted) it waits until `LOW_WATER` of the limit is free, so that a busy worker
        fetches a batch at a time rather than one message per ack. No process is left idle
        by it, and never more is held than kombu would. Also writes acks older than
        `ACK_FLUSH_S` (called at every turn of the consumer's loop)."""
        self._flush_stale()
        if not cast(Any, super()).can_consume():
            return False
        limit = self.prefetch_count
        held = len(self._delivered) - len(self._dirty)
        if not limit or not held or limit - held >= max(1, int(limit * LOW_WATER)):
            return True
        active = len(worker_state.active_requests)
        waiting = len(worker_state.reserved_requests) - active
        return waiting < max(1, active)

    def append(self, message: Any, delivery_tag: str) -> None:
        if delivery_tag in self.recorded:
            self.recorded.discard(delivery_tag)
            cast(Any, virtual.QoS).append(self, message, delivery_tag)  # in memory only
            return
        cast(Any, super()).append(message, delivery_tag)

    def ack(self, delivery_tag: str) -> None:
        """kombu's ack, its Redis part deferred, so that a busy worker removes several
        records in one round trip: written before the next fetch, within `ACK_FLUSH_S`
        (a one-shot timer in the worker's event loop, else at the loop's next turn), and at
        once while the worker waits for messages (a BRPOP pending), on a closed channel, or
        when `ACKS_MAX` wait. The prefetch room frees at once."""
        with self._acks_lock:
            if not self._acks:
                self._acks_since = time.monotonic()
            self._acks.append(delivery_tag)
        cast(Any, virtual.QoS).ack(self, delivery_tag)  # in memory
        channel = self.channel
        if channel.closed:
            self._flush_before("an ack on a closed channel")
        elif channel._in_poll or len(self._acks) >= ACKS_MAX:
            self._flush_logged()  # never raised into kombu's ack (Redis full: OOM)
        else:
            self._arm_timer()

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        self._flush_before("a reject")  # a requeue must not restore a message acked before
        cast(Any, super()).reject(delivery_tag, requeue=requeue)

    def restore_unacked(self, client: Any = None) -> Any:
        self._flush_before("a restore")  # kombu's restore walks what it delivered, acked or not
        return cast(Any, super()).restore_unacked(client)

    def _flush_before(self, what: str) -> None:
        """`flush_acks` before kombu's own step, which goes on whatever happens (a channel
        closing after its connection was lost cannot even build a client: the acks are then
        left to the visibility timeout, as kombu's own acks would be)."""
        try:
            self.flush_acks()
        except Exception:
            log.warning("could not write %d acks before %s", len(self._acks), what,
                        exc_info=True)

    def flush_acks(self) -> None:
        """Remove the acked messages' records from ``unacked`` (one MULTI/EXEC).

        Raises:
            redis.RedisError: Redis could not be reached; the tags are kept for the next
                flush (until then the records stay, and kombu's visibility timeout would
                deliver those messages again: a tasks-core run that has ended is not run
                twice, its claim refuses it).
        """
        with self._acks_lock:
            tags, self._acks = self._acks, []
        if not tags:
            return
        try:
            with cast(Any, self).pipe_or_acquire() as pipe:
                pipe.zrem(self.unacked_index_key, *tags)
                pipe.hdel(self.unacked_key, *tags)
                pipe.execute()
        except BaseException:
            with self._acks_lock:
                self._acks[:0] = tags[-ACKS_KEPT:]
                self._acks_since = time.monotonic()
            raise

    def _flush_stale(self) -> None:
        now = time.monotonic()
        if self._acks and now - self._acks_since >= ACK_FLUSH_S and now >= self._retry_at:
            self._flush_logged()

    def flush_pending(self) -> None:
        """The acks kept so far, written now as `_flush_logged` writes them (before a
        fetch: what fails is kept for the next one, never raised into the fetch)."""
        if self._acks and time.monotonic() >= self._retry_at:
            self._flush_logged()

    def _on_timer(self) -> None:
        self._timer = None
        self._flush_logged()

    def _flush_logged(self) -> None:
        """`flush_acks` where an error must not escape (the event loop, kombu's ack): a
        failure (Redis away, or refusing writes: OOM) is logged (at most every 10 s) and
        retried later (backing off from `ACK_FLUSH_S` to 1 s); the acks are kept."""
        try:
            self.flush_acks()
        except Exception:
            now = time.monotonic()
            if now - self._warned >= 10:
                self._warned = now
                log.warning("could not write %d acks yet; retrying", len(self._acks),
                            exc_info=True)
            self._backoff = min(1.0, max(ACK_FLUSH_S, self._backoff * 2))
            self._retry_at = now + self._backoff
            if self._on_loop_thread():  # else the loop's next turn after _retry_at writes them
                self._arm_timer(self._backoff)
        else:
            self._backoff, self._retry_at = 0.0, 0.0

    def _arm_timer(self, delay: float = ACK_FLUSH_S) -> None:
        """Arm the one-shot flush in the worker's event loop; from another thread (an ack
        from Celery's threads pool: the loop's timers are not thread-safe), write at once."""
        if self._timer is not None:
            return
        transport = self.channel.connection
        loop = getattr(transport, "event_loop", None)
        if loop is None:
            return  # written at the loop's next turn (`can_consume`) or the next fetch
        if threading.get_ident() != getattr(transport, "event_loop_thread", None):
            self._flush_logged()
            return
        self._timer = loop.call_later(delay, self._on_timer)

    def _on_loop_thread(self) -> bool:
        """Whether this is the worker's event loop thread (where timers may be armed)."""
        return threading.get_ident() == getattr(self.channel.connection,
                                                "event_loop_thread", None)

    def restore_unacked_once(self, stderr: Any = None) -> Any:
        """Write the deferred acks, then kombu's restore of what is still unacked (at
        shutdown)."""
        self._flush_before("closing")
        return cast(Any, super()).restore_unacked_once(stderr)

    def forget(self, delivery_tag: str) -> None:
        """Remove a recorded message that will not be delivered (set aside) from
        ``unacked``."""
        self.recorded.discard(delivery_tag)
        cast(Any, self)._remove_from_indices(delivery_tag).execute()

    def give_back(self, tags: Sequence[str]) -> None:
        """Put recorded messages that were not delivered back on their queues now, in
        their order (kombu's restore: onto the end BRPOP takes from, so the last first;
        should it fail, the visibility timeout restores them later)."""
        for tag in reversed(tags):
            self.recorded.discard(tag)
            try:
                cast(Any, self).restore_by_tag(tag)
            except Exception:  # still in ``unacked``: restored after the visibility timeout
                log.exception("could not give back message %s; the visibility timeout will",
                              tag)


def room(qos: Any, *, holding: int) -> int:
    """How many more messages a fetch may take: the prefetch limit's room less `holding`
    (messages taken but not yet delivered), at most `BATCH_MAX`; 0 when Celery decides per
    message (``worker_disable_prefetch`` replaces ``can_consume`` on the QoS)."""
    if "can_consume" in vars(qos):
        return 0
    estimate = qos.can_consume_max_estimate()
    if estimate is None:
        return BATCH_MAX
    return max(0, min(BATCH_MAX, int(estimate) - holding))


def fetch_batch(client: redis.Redis, *, prefix: str, unacked_index: str, unacked: str,
                lists: Sequence[str], width: int, limit: int,
                envelope: bytes | None) -> tuple[str, list[Fetched]]:
    """Run fetch_batch.lua: record `envelope` (the BRPOP's message; None: nothing to record)
    and take up to `limit` more off `lists` (unprefixed names, BRPOP's order, `width` per
    priority step). Returns the envelope's delivery tag ('' when not recorded) and what was
    taken, in order.

    Raises:
        redis.ConnectionError, redis.TimeoutError: Redis could not be reached. When the
            script ran and only its reply was lost, what it took is recorded as unacked
            and kombu's visibility timeout gives it back (a message it could not record,
            not an envelope kombu can take, is lost with the reply).
        redis.ResponseError: the script could not run (nothing was taken).
    """
    script = _script(client)
    keys = [prefix + unacked_index, prefix + unacked, *(prefix + name for name in lists)]
    reply = script(keys=keys, args=[repr(time.time()), limit, width, envelope or b""],
                   client=client)
    first = _text(reply[0])
    taken = [Fetched(key=_text(reply[i + 1])[len(prefix):], envelope=reply[i + 2],
                     tag=_text(reply[i])) for i in range(3, len(reply), 3)]
    return first, taken


_loaded: list[Any] = []


def _script(client: redis.Redis) -> Any:
    """The script object (redis-py's: EVALSHA, loading the script on NOSCRIPT); one per
    process, whichever client calls it."""
    if not _loaded:
        _loaded.append(client.register_script(_SCRIPT))
    return _loaded[0]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
