"""Batched state reporting: buffer run writes and flush each batch in one pipeline.

A background thread flushes when a batch is full, `linger_ms` after an urgent write (a
terminal state) arrives, and at the latest every `batch_interval_ms`. A worker's next claim
may `take()` what is buffered and send it in its own round trip before the linger ends, so
under load a run's terminal write and the next run's claim share one round trip. While one
batch is being written the next accumulates, so batches grow with load (group commit).
A batch that fails to write is retried with backoff, in order, and never dropped; `flush()`
drains everything (called on shutdown signals and at exit).

Run log entries (`log()`) travel in the same batches, in order with the state writes: a run's
create is written before its logs, and its logs before its terminal state. Consecutive
entries of one run share one write (an RPUSH of several values), up to `LOG_ENTRIES_PER_WRITE`.

It lives in tasks_core, not workers/, because in-process runs (direct calls, flows) report
through it too; the worker wires it to Celery's shutdown signals.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import redis

from tasks_core.errors import StoreRefusing
from tasks_core.records import RunRecord
from tasks_core.store.base import load_lua
from tasks_core.store.connection import refuses_writes
from tasks_core.store.runs import BrokerPush, Outcome, RunStore, Transition

__all__ = ["LOG_ENTRIES_PER_WRITE", "LogLines", "Reporter"]

log = logging.getLogger("tasks_core.reporter")

Write = tuple[str, Any, Any]
"""One buffered write, one pipeline reply: ("create", RunRecord, BrokerPush | None),
("transition", Transition, Callback | None) or ("log", run_id, LogLines)."""
Callback = Callable[[Outcome], None]

_LOST = (redis.ConnectionError, redis.TimeoutError, OSError)
"""Redis away (StoreUnavailable is one of these): retried, never dropped."""

LOG_ENTRIES_PER_WRITE = 200
"""Most log entries appended by one write (consecutive entries of one run are merged)."""

LOG_WRITES_KEPT_S = 3600
"""How long a run's log writes are known by their numbers (append_logs.lua): a batch is sent
again within it (seconds)."""


class LogLines(list[str]):
    """The entries (JSON) of one log write, with its number from its reporter: a write sent
    again after it applied is known by it (append_logs.lua)."""

    __slots__ = ("number",)

    def __init__(self, entries: list[str], number: int) -> None:
        super().__init__(entries)
        self.number = number


TRANSITION_GROUP = 32
"""Most changes of one `apply_now` written by one script call (transitions.lua); more go in
further calls of the same round trip, so that no one call holds Redis long."""

REFUSED_BACKOFF_S = (0.05, 5.0)
"""First and longest pause before writes Redis refused for now (`errors.StoreRefusing`)
are sent again by the flushing thread (seconds; doubled after each refusal in a row)."""

IN_FLIGHT_WAIT_S = 5.0
"""Longest `apply_now` waits for a batch already on its way (Redis slow or away: it goes on,
and the batch is retried in order by the flushing thread)."""


class Reporter:
    """Buffers creates, transitions and log entries of runs; one instance per process."""

    def __init__(self, store: RunStore, *, interval_ms: float, batch_size: int,
                 linger_ms: float = 0.0) -> None:
        self.store = store
        self.interval = interval_ms / 1000.0
        self.linger = linger_ms / 1000.0
        self.batch_size = batch_size
        self._buffer: deque[Write] = deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._stopping = False
        self._pid = os.getpid()
        self.writer = f"{os.getpid()}:{secrets.token_hex(6)}"
        """This reporter's name in its log writes' ids (append_logs.lua)."""
        self._log_numbers = itertools.count(1)
        self._refusals = 0  # batches in a row with writes Redis refused for now
        self._refused_until = 0.0  # monotonic time before which they are not sent again
        # A Lua call, not RPUSH + EXPIRE, so that every write has exactly one reply.
        self._append_logs = store.client.register_script(load_lua("append_logs.lua"))
        self._thread = threading.Thread(target=self._loop, name="tasks-core-reporter", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- producers ------------------------------------------------------------------------

    def create(self, run: RunRecord, push: BrokerPush | None = None) -> None:
        """Buffer the creation of a run (before any of its transitions)."""
        self._add(("create", run, push), urgent=False)

    def transition(
        self, change: Transition, *, urgent: bool = False, on_outcome: Callback | None = None
    ) -> None:
        """Buffer a transition; `urgent` ones (terminal states) are flushed at once."""
        self._add(("transition", change, on_outcome), urgent=urgent)

    def log(self, run_id: str, entry_json: str) -> None:
        """Buffer one log entry (JSON) of a run, appended to its log list in order."""
        with self._idle:
            last = self._buffer[-1] if self._buffer else None
            if (last is not None and last[0] == "log" and last[1] == run_id
                    and len(last[2]) < LOG_ENTRIES_PER_WRITE):
                last[2].append(entry_json)  # still buffered (never in flight): safe to extend
                return
            lines = LogLines([entry_json], next(self._log_numbers))
        self._add(("log", run_id, lines), urgent=False)

    def _add(self, item: Write, *, urgent: bool) -> None:
        with self._idle:
            self._buffer.append(item)
        if urgent or len(self._buffer) >= self.batch_size:
            self._wake.set()

    # -- draining -------------------------------------------------------------------------

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Write everything buffered so far; False when `timeout` passed first."""
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._buffer or self._in_flight:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._wake.set()
                self._idle.wait(0.05 if left is None else min(left, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Flush and stop the thread (idempotent)."""
        if os.getpid() != self._pid or self._stopping:
            return
        self.flush(timeout)
        self._stopping = True
        self._wake.set()

    @property
    def pending(self) -> int:
        """How many writes wait in the buffer."""
        return len(self._buffer)

    # -- the flushing thread --------------------------------------------------------------

    def take(self) -> list[Write]:
        """Hand over everything buffered, to be written by the caller in its own pipeline.

        The caller must `queue_batch` it, then `settle` it with the replies (or `give_back`
        on a connection error); until then `flush()` waits for it.
        """
        with self._idle:
            batch = list(self._buffer)
            self._buffer.clear()
            self._in_flight += len(batch)
        return batch

    def apply_now(self, changes: Sequence[Transition], *,
                  raise_errors: bool = True) -> list[Outcome]:
        """Apply transitions now, in one round trip that also carries everything buffered
        (written first, in order): a worker's claims and its attempts' outcomes, which must
        be in Redis before the message is acknowledged.

        A batch already on its way (the flushing thread's, another thread's) is waited for
        first, up to `IN_FLIGHT_WAIT_S`: what was buffered before this call is written
        before these changes, so a parent's outcome is never visible before the record of a
        run it started (a child created in process is buffered).

        An outcome Redis refuses with an error is replaced by its stripped form (the run
        still ends). Another change Redis refuses with an error raises that error (after
        the whole call: the others applied), or with `raise_errors=False` comes back as an
        Outcome that did not apply, with the error (`Outcome.error`). Raises
        StoreUnavailable when Redis stays away (the buffer is kept), and StoreRefusing (one)
        when Redis refuses one of these writes for now (`errors.StoreRefusing`: the
        others may have applied; sent again, they are known as applied).
        """
        self._await_in_flight()
        taken = self.take()
        try:
            # a few changes to a script call (transitions.lua): Redis serves others between
            groups = [changes[i:i + TRANSITION_GROUP]
                      for i in range(0, len(changes), TRANSITION_GROUP)]
            with self.store.client.pipeline(transaction=False) as pipe:
                self.queue_batch(pipe, taken)
                for group in groups:
                    if len(group) > 1:
                        self.store.queue_transitions(pipe, group)
                    else:
                        self.store.queue_transition(pipe, group[0])
                replies = pipe.execute(raise_on_error=False)
        except _LOST:
            self.give_back(taken)
            raise
        except Exception:  # something in it cannot be sent: the buffer goes the slow way
            self.give_back(taken)
            return [self._apply_alone(change, raise_errors) for change in changes]
        self.settle(taken, replies[:len(taken)])
        mine: list[Any] = []
        for group, reply in zip(groups, replies[len(taken):], strict=True):
            mine += (self.store.transitions_replies(reply, len(group)) if len(group) > 1
                     else [reply])
        refused = next((reply for reply in mine if refuses_writes(reply)), None)
        if refused is not None:  # as Redis away: the caller keeps them (the others applied
            # are known as applied when sent again)
            raise StoreRefusing(f"Redis refuses writes for now: {refused}")
        return [self._outcome_of(change, reply, raise_errors)
                for change, reply in zip(changes, mine, strict=True)]

    def _await_in_flight(self) -> None:
        """Wait until no batch is on its way (not in the flushing thread: its callbacks run
        while its own batch is counted in flight)."""
        if threading.current_thread() is getattr(self, "_thread", None) or not self._in_flight:
            return
        deadline = time.monotonic() + IN_FLIGHT_WAIT_S
        with self._idle:
            while self._in_flight and (left := deadline - time.monotonic()) > 0:
                self._idle.wait(min(left, 0.05))

    def _outcome_of(self, change: Transition, reply: Any, raise_errors: bool = True) -> Outcome:
        if isinstance(reply, Exception) and change.outcome:
            log.error("run %s: %s not written: %s", change.run_id, change.target, reply)
            return self.store.transition(change.stripped(str(reply)[:200]))
        if isinstance(reply, Exception) and not raise_errors:
            return Outcome(applied=False, error=f"{type(reply).__name__}: {reply}")
        return self.store.parse_outcome(reply)

    def _apply_alone(self, change: Transition, raise_errors: bool = True) -> Outcome:
        try:
            return self.store.transition(change)
        except _LOST:
            raise
        except Exception as exc:
            if not change.outcome and not raise_errors:
                return Outcome(applied=False, error=f"{type(exc).__name__}: {exc}")
            if not change.outcome:
                raise
            return self.store.transition(change.stripped(f"{type(exc).__name__}: {exc}"[:200]))

    def give_back(self, batch: list[Write]) -> None:
        """Return a taken batch that could not be written (it is written first, in order)."""
        with self._idle:
            self._buffer.extendleft(reversed(batch))
            self._in_flight -= len(batch)
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping:
            woken = self._wake.wait(self.interval)
            self._wake.clear()
            if woken and self.linger and len(self._buffer) < self.batch_size:
                time.sleep(self.linger)  # a claim may take the buffer meanwhile
            try:
                self._drain()
            except Exception:  # the thread must outlive any one write's surprise
                log.exception("state reporter: unexpected error; carrying on")

    def _drain(self) -> None:
        while True:
            wait = self._refused_until - time.monotonic()
            if wait > 0:  # Redis refused writes for now: they wait in the buffer
                time.sleep(wait)
            with self._idle:
                if not self._buffer:
                    self._idle.notify_all()
                    return
                batch = [self._buffer.popleft() for _ in range(min(len(self._buffer),
                                                                     self.batch_size))]
                self._in_flight += len(batch)
            self._write_until_done(batch)

    def _write_until_done(self, batch: list[Write]) -> None:
        delay = 0.05
        while True:
            try:
                self._write(batch)
                return
            except _LOST as exc:
                log.warning("state batch of %d not written (%s); retrying in %.2fs",
                            len(batch), exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception:  # a write Redis cannot take: isolate it, keep the rest
                log.exception("state batch of %d could not be sent; writing one by one",
                              len(batch))
                for item in batch:
                    self._write_one(item)
                return

    def _write_one(self, item: Write) -> None:
        """Write one buffered item (of a batch that failed to encode); an item that cannot
        be written is replaced by its stripped outcome (transitions) or logged and dropped."""
        while True:
            try:
                self._write([item])
                return
            except _LOST:
                time.sleep(0.5)
            except Exception as exc:
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()
                kind, change, extra = item
                if kind == "transition" and change.outcome:
                    self._write_stripped(change, f"{type(exc).__name__}: {exc}", extra)
                else:
                    log.error("%s write for run %s dropped: it cannot be sent to Redis (%s)",
                              kind, _run_id(kind, change), exc)
                return

    def _write(self, batch: list[Write]) -> None:
        with self.store.client.pipeline(transaction=False) as pipe:
            self.queue_batch(pipe, batch)
            replies = pipe.execute(raise_on_error=False)
        self.settle(batch, replies)

    def queue_batch(self, pipe: Any, batch: list[Write]) -> None:
        """Queue the writes of a batch on a pipeline (one command, so one reply, per write)."""
        store = self.store
        for kind, item, extra in batch:
            if kind == "create":
                store.create(item, extra, pipe=pipe)
            elif kind == "log":
                self._append_logs(keys=[store.keys.logs(item), store.keys.run(item),
                                        store.keys.log_writes(item)],
                                  args=[store.settings.run_ttl_seconds,
                                        f"{self.writer}:{extra.number}", LOG_WRITES_KEPT_S,
                                        *extra],
                                  client=pipe)
            else:
                store.queue_transition(pipe, item)

    def _write_stripped(self, change: Transition, reason: str, callback: Callback | None
                        ) -> None:
        """Write an outcome Redis or the client could not take as its stripped form, so that
        the run still ends. Its callback is told when the rewrite is refused (a run being
        cancelled meanwhile then ends Cancelled, as the outcome's own refusal would have
        ended it); not when it applied: what follows an applied outcome (its next attempt's
        message) does not follow a run that ended Failed instead."""
        self.transition(change.stripped(reason[:200]), urgent=True,
                        on_outcome=_refused_only(callback))

    def settle(self, batch: list[Write], replies: list[Any]) -> None:
        """Handle the replies of a written batch and count it as done."""
        try:
            self._report(batch, replies)
        finally:
            with self._idle:
                self._in_flight -= len(batch)
                self._idle.notify_all()

    def _report(self, batch: list[Write], replies: list[Any]) -> None:
        again: list[Write] = []
        try:
            self._report_each(batch, replies, again)
        finally:  # kept whatever happened to the others
            self._keep_refused(again, replies)

    def _report_each(self, batch: list[Write], replies: list[Any], again: list[Write]
                     ) -> None:
        store = self.store
        held: set[str] = set()  # runs with a write Redis refused for now in this batch
        for (kind, item, extra), reply in zip(batch, replies, strict=True):
            if refuses_writes(reply):  # not written; Redis may take it later
                again.append((kind, item, extra))
                held.add(_run_id(kind, item))
                continue
            if isinstance(reply, redis.ResponseError):
                log.error("%s write for run %s failed: %s", kind, _run_id(kind, item), reply)
                if kind == "transition" and item.outcome:  # the run must still end
                    self._write_stripped(item, str(reply), extra)
                continue
            if kind == "transition":
                try:
                    outcome = store.parse_outcome(reply)
                except Exception as exc:  # any reply it cannot read
                    # written all the same: a batch is never sent twice for its replies
                    log.error("run %s: the reply to %s cannot be read (%r): %s", item.run_id,
                              item.target, reply, exc)
                    continue
                if not outcome.applied and item.run_id in held:
                    # refused because a write before it (its run's creation, a change) was
                    # refused for now, near Redis's memory limit: kept after it, in order
                    again.append((kind, item, extra))
                    continue
                if not outcome.applied:
                    log.info("run %s: %s refused (state is %s)", item.run_id,
                             item.target, outcome.state or "missing")
                if extra is not None:
                    try:
                        extra(outcome)
                    except Exception:  # the write is done: never write it again for this
                        log.exception("run %s: callback after %s failed", item.run_id,
                                      item.target)

    def _keep_refused(self, again: list[Write], replies: list[Any]) -> None:
        """Put writes Redis refused for now back at the front of the buffer, in order, and
        pause the flushing thread before it sends them again (`REFUSED_BACKOFF_S`)."""
        if not again:
            if replies:  # a batch Redis took: sent at once from now on
                self._refusals, self._refused_until = 0, 0.0
            return
        first, most = REFUSED_BACKOFF_S
        pause = min(first * 2 ** self._refusals, most)
        self._refusals += 1
        self._refused_until = time.monotonic() + pause
        with self._idle:
            self._buffer.extendleft(reversed(again))
        reason = next(str(r) for r in replies if refuses_writes(r))
        log.warning("Redis refuses writes for now (%s): %d kept, sent again in %.2f s",
                    reason[:200], len(again), pause)
        self._wake.set()


def _refused_only(callback: Callback | None) -> Callback | None:
    """The callback of an outcome for its stripped rewrite (`Reporter._write_stripped`)."""
    if callback is None:
        return None
    original = callback

    def after(outcome: Outcome) -> None:
        if not outcome.applied:
            original(outcome)
    return after


def _run_id(kind: str, item: Any) -> str:
    """The run a buffered write is about."""
    if kind == "create":
        return str(item.id)
    if kind == "transition":
        return str(item.run_id)
    return str(item)  # a log write carries the run id itself
