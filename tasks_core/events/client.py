"""The buffered event client: one per process, writes emitted events in batches.

Invariants (the same habits as `tasks_core.store.reporter`):

- An event handed to `emit()` is written to the stream within `interval_ms` (default 50 ms)
  while Redis answers; `flush()` writes everything buffered and runs at process exit
  (atexit) and when a Celery worker process shuts down (`workers/signals.py`).
- A batch that cannot be written (Redis away, or refusing) is retried with backoff, in
  order, and never dropped. A retried batch is never stored twice: the stream keeps one
  event per id (`store/emit_events.lua`).
- The buffer is bounded (`buffer_max`): when Redis stays away and it fills, `emit()` waits
  up to `FULL_WAIT_S` for room, then raises StoreUnavailable; it never drops an event
  silently.
- After a fork the child builds its own client (the runtime is rebuilt per process); the
  parent's `close` does nothing in a child.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from datetime import UTC, datetime

from tasks_core.errors import StoreUnavailable
from tasks_core.events.schema import Event
from tasks_core.store.events import EventStore

__all__ = ["FULL_WAIT_S", "EventClient"]

log = logging.getLogger("tasks_core.events")

FULL_WAIT_S = 5.0
"""Longest `emit()` waits for room in a full buffer before it raises."""

BATCH_MAX = 500
"""Most events written in one call."""


class EventClient:
    """Buffers events and writes them to the stream in batches, from a background thread.

    Args:
        store: the event stream.
        interval_ms: longest an event waits in the buffer (milliseconds).
        buffer_max: most events buffered (plus one batch on its way).
    """

    def __init__(self, store: EventStore, *, interval_ms: float, buffer_max: int) -> None:
        self.store = store
        self.interval = interval_ms / 1000.0
        self.buffer_max = buffer_max
        self._buffer: deque[tuple[str, str]] = deque()
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._in_flight = 0
        self._stopping = False
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._loop, name="tasks-core-events",
                                        daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def emit(self, event: Event) -> None:
        """Buffer `event` (already validated) to be written within the interval.

        Raises:
            StoreUnavailable: the buffer stayed full for `FULL_WAIT_S` (Redis away).
        """
        unreceived = event if event.received is None else \
            event.model_copy(update={"received": None})
        text = unreceived.model_dump_json()
        deadline = time.monotonic() + FULL_WAIT_S
        with self._cond:
            while len(self._buffer) >= self.buffer_max:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreUnavailable(
                        f"event {event.event!r} not emitted: {len(self._buffer)} events wait "
                        f"for Redis (event_buffer_max={self.buffer_max}); is Redis up?")
                self._wake.set()
                self._cond.wait(min(left, 0.05))
            self._buffer.append((event.id, text))
        if len(self._buffer) >= BATCH_MAX:
            self._wake.set()

    @property
    def pending(self) -> int:
        """Events buffered or on their way."""
        return len(self._buffer) + self._in_flight

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Write everything emitted so far; False when `timeout` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._buffer or self._in_flight:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._wake.set()
                self._cond.wait(0.05 if left is None else min(left, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Flush and stop the thread (idempotent; does nothing in a forked child)."""
        if os.getpid() != self._pid or self._stopping:
            return
        if not self.flush(timeout):
            log.error("%d events not written before exit (Redis away?)", self.pending)
        self._stopping = True
        self._wake.set()

    # -- the writing thread ---------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # the thread must outlive any surprise
                log.exception("event client: unexpected error; carrying on")

    def _drain(self) -> None:
        while True:
            with self._cond:
                if not self._buffer:
                    self._cond.notify_all()
                    return
                batch = [self._buffer.popleft()
                         for _ in range(min(len(self._buffer), BATCH_MAX))]
                self._in_flight = len(batch)
            try:
                self._write_until_done(batch)
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _write_until_done(self, batch: list[tuple[str, str]]) -> None:
        delay = 0.05
        while True:
            try:
                self.store.write(_received(batch, datetime.now(UTC)))
                return
            except Exception as exc:  # Redis away or refusing (OOM...): retry, never drop
                log.warning("%d events not written (%s); retrying in %.2fs",
                            len(batch), exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)


_UNRECEIVED = '"received":null'


def _received(batch: list[tuple[str, str]], now: datetime) -> list[tuple[str, str]]:
    """The batch's JSON with ``received`` set to `now` (when the stream takes them).

    Events are dumped when emitted (so later changes to a payload do not leak in) with
    ``received`` null; it is the last but one field (``follows``, a string or null, comes
    last), so its last occurrence in the text is the event's own, never one in the payload.
    """
    stamp = f'"received":"{now.isoformat()}"'
    out = []
    for event_id, text in batch:
        at = text.rfind(_UNRECEIVED)
        out.append((event_id, text[:at] + stamp + text[at + len(_UNRECEIVED):]
                    if at >= 0 else text))
    return out
