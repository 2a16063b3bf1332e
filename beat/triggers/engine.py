"""The trigger engine: a consumer group over the event stream, evaluated on the beat leader.

One pass (`TriggerEngine.step`):

1. apply automation changes heard on ``p:automations:changes`` (created, updated, paused,
   resumed, deleted: reloaded at once, not polled);
2. read entries: those another consumer left unacked for ``engine_reclaim_idle_seconds``
   (XAUTOCLAIM; all of them, at once, when this beat has just taken the lead), then new
   ones (XREADGROUP BLOCK, at most `BLOCK_MS`, less when a Proactive window ends sooner);
   when it read some, apply the changes heard while it waited too, so that an automation
   saved before an event was emitted evaluates that event (a change is announced when it
   is saved, before its caller goes on);
3. evaluate: each event goes to the automations the `Registry`'s index names for its event
   name (the cost of an event does not grow with automations that cannot match it), then
   the evaluators whose deadline has come are ticked;
4. commit, in one transaction: the changed evaluator states, the ids of the entries
   evaluated and the firings to execute (the pending list);
5. execute each pending firing's actions, each once (`firings.execute_firing`);
6. acknowledge the entries (XACK).

A crash anywhere is safe. Before 4: nothing was saved; the entries are read again (reclaimed)
and evaluated from the saved state, giving the same firings with the same ids (they are
deterministic), whose actions' claims stop a second execution. After 4: the pending firings
are executed when the engine starts again (a claim stops a repeat), and the entries the
commit names as evaluated are acknowledged without being evaluated again (acking forgets
them).

Only the beat holding the beat lock runs the engine (other beats stand by), and a commit
is refused unless its beat holds the lock, so evaluator state has one writer; a beat
taking over loads the saved state and the pending firings and reclaims every unacked entry
before it reads new ones, so events are evaluated in stream order, none twice. Entries a
beat read just as it lost the lead (its commit is refused) are reclaimed after
``engine_reclaim_idle_seconds`` and evaluated then, late but not lost.

Test only: ``BEAT_TEST_CRASH_AFTER_EVALUATE=1`` SIGKILLs this process right after step 4
when the pass fired something (``before-commit``: right before step 4).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pydantic

from beat import clock
from beat.triggers.firings import Retry, emit_resolved, execute_firing
from beat.triggers.registry import Registry
from tasks_core.automations.model import AutomationError, AutomationModel
from tasks_core.errors import StoreUnavailable, TasksCoreError
from tasks_core.events.emit import emit_event
from tasks_core.events.schema import RESOURCE_ID, Event
from tasks_core.events.triggers import Firing
from tasks_core.process_runtime import Runtime
from tasks_core.store.automations import ChangeSubscription
from tasks_core.store.engine import StreamEntry

__all__ = ["BLOCK_MS", "CRASH_VARIABLE", "ENTRY_SKIPPED", "HOUSEKEEPING_S", "RETRY_S",
           "TriggerEngine", "run_engine"]

log = logging.getLogger("tasks_core.beat.triggers")

BLOCK_MS = 200
"""Longest a read waits for new entries (changes are applied at least this often)."""

RETRY_S = 1.0
"""A firing left pending (an action failed because Redis was away) is tried again after
this many seconds."""

HOUSEKEEPING_S = 60.0
"""Every evaluator is ticked this often (Reactive ones forget buckets nothing can count in
any more, so their saved state stays small)."""

CRASH_VARIABLE = "BEAT_TEST_CRASH_AFTER_EVALUATE"
ENTRY_SKIPPED = "tasks-core.engine.entry-skipped"
_IDS = uuid.UUID("0c4e2f6a-8b1d-4f3e-a5c7-9d2b4e6f8a1c")

Pending = tuple[str, str, Firing]
"""(pending key ``<automation id>:<firing id>``, automation id, firing)."""


class TriggerEngine:
    """The engine of one beat process (see the module docstring).

    Args:
        rt: the runtime (its stores and settings).
        consumer: this process's consumer name in the group (``host:pid``).
        now: the wall clock (injected in tests).
    """

    def __init__(self, rt: Runtime, consumer: str,
                 now: Callable[[], datetime] = clock.now) -> None:
        self.rt = rt
        self.consumer = consumer
        self.now = now
        self.registry = Registry()
        self.changes: ChangeSubscription | None = None
        self.active = False
        self.resolutions: list[tuple[AutomationModel, str, Event]] = []
        self.retry_at: float | None = None  # monotonic time to retry pending firings
        self.next_housekeeping = time.monotonic() + HOUSEKEEPING_S

    # -- leading --------------------------------------------------------------------------

    def start(self) -> None:
        """Take over: subscribe to changes, load automations, their states and the pending
        firings; evaluate every unacked entry (whoever read it); execute what is pending."""
        self.stop()
        self.changes = self.rt.automations.subscribe()  # before loading: no change missed
        self.rt.engine.ensure_group()
        self.registry = Registry()
        states = self.rt.engine.states()
        firings: list[Pending] = []
        now = self.now()
        for text in self.rt.automations.all():
            automation = _parse(text)
            if automation is not None:
                firings += _pending(automation.id, self.registry.put(
                    automation, states.get(automation.id), now))
        stale = {k: None for k in states if k not in self.registry.loaded}
        self.active = True
        self._pass(self.rt.engine.reclaim(self.consumer, 0), firings,
                   touched=set(self.registry.loaded), dropped=stale)
        if not self.active:
            return  # lost the lead already
        self._execute_pending()
        log.info("trigger engine: leading, %d automations loaded", len(self.registry.loaded))

    def stop(self) -> None:
        """Stand by (lost the lead, or shutting down)."""
        self.active = False
        if self.changes is not None:
            try:
                self.changes.close()
            except Exception:  # the connection may be gone already
                log.debug("closing the change subscription failed", exc_info=True)
            self.changes = None

    # -- one pass -------------------------------------------------------------------------

    def step(self) -> None:
        """One pass: changes, reclaimed and new entries, due deadlines; commit, execute,
        ack. Waits up to `BLOCK_MS` (less when a deadline is nearer) for new entries."""
        touched: set[str] = set()
        dropped: dict[str, None] = {}
        firings = self._apply_changes(touched, dropped)
        idle_ms = int(self.rt.settings.engine_reclaim_idle_seconds * 1000)
        entries = self.rt.engine.reclaim(self.consumer, idle_ms)
        entries += self.rt.engine.read(self.consumer, block_ms=self._block_ms(firings))
        if entries:  # changes announced while it waited come first: an automation created
            # just before its event was emitted (one script, in order) sees that event
            firings += self._apply_changes(touched, dropped)
        self._pass(entries, firings, touched, dropped)

    def _block_ms(self, firings: list[Pending]) -> int:
        if firings:
            return 1
        deadline = self.registry.next_deadline()
        if deadline is None:
            return BLOCK_MS
        left = (deadline - self.now()).total_seconds() * 1000
        return int(min(BLOCK_MS, max(1.0, left + 1)))

    def _pass(self, entries: list[StreamEntry], firings: list[Pending], touched: set[str],
              dropped: dict[str, None]) -> None:
        acks = [entry_id for entry_id, _ in entries]
        done_before = self.rt.engine.evaluated(acks)  # committed before a crash, not acked
        evaluated: list[str] = []
        for entry_id, text in entries:
            if entry_id in done_before:
                continue
            evaluated.append(entry_id)
            event = self._event(entry_id, text)
            if event is not None:
                firings += self._handle(event, touched)
        now = self.now()
        due = self.registry.due(now)
        if time.monotonic() >= self.next_housekeeping:  # Reactive states forget stale buckets
            due = sorted(self.registry.loaded)
            self.next_housekeeping = time.monotonic() + HOUSEKEEPING_S
        for key in due:
            touched.add(key)
            firings += _pending(key, self.registry.tick(key, now))
        if os.environ.get(CRASH_VARIABLE) == "before-commit" and firings:
            os.kill(os.getpid(), signal.SIGKILL)
        states: dict[str, dict[str, Any] | None] = dict(dropped)
        states.update({key: self.registry.loaded[key].saved() for key in touched
                       if key in self.registry.loaded})
        pending = {key: {"automation_id": aid, "firing": f.model_dump(mode="json")}
                   for key, aid, f in firings}
        if (states or pending or evaluated) and not self.rt.engine.commit(
                self.consumer, states, evaluated, pending):
            log.warning("trigger engine: lost the lead mid-pass; its outcome is dropped "
                        "(the new leader evaluates these entries)")
            self.resolutions = []
            self.stop()
            return
        if os.environ.get(CRASH_VARIABLE) == "1" and firings:
            os.kill(os.getpid(), signal.SIGKILL)
        resolutions, self.resolutions = self.resolutions, []
        for automation, firing_id, event in resolutions:
            emit_resolved(automation, firing_id, event)
        if pending or (self.retry_at is not None and time.monotonic() >= self.retry_at):
            self._execute_pending()
        self.rt.engine.ack(acks)

    def _handle(self, event: Event, touched: set[str]) -> list[Pending]:
        firings: list[Pending] = []
        for loaded in self.registry.candidates(event.event):
            key = loaded.automation.id
            try:
                fired = loaded.evaluator.handle(event)
            except Exception:  # one automation's surprise must not stop the others
                log.exception("automation %r: evaluating event %s failed",
                              loaded.automation.name, event.id)
                continue
            touched.add(key)
            self.registry.note_deadline(key)
            loaded.note_firings(fired)
            firings += _pending(key, fired)
            resolved = loaded.resolve(event)
            if resolved is not None:
                self.resolutions.append((loaded.automation, resolved, event))
        return firings

    def _event(self, entry_id: str, text: str | None) -> Event | None:
        """The entry's event; None (and an entry-skipped event) when it is malformed."""
        try:
            if text is None:
                raise ValueError("the entry has no 'event' field (or was trimmed)")
            return Event.model_validate_json(text)
        except (ValueError, pydantic.ValidationError) as exc:
            error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.error("event stream entry %s skipped: %s", entry_id, error)
            try:
                emit_event(ENTRY_SKIPPED, {RESOURCE_ID: f"tasks-core.stream-entry.{entry_id}"},
                           payload={"entry_id": entry_id, "error": error,
                                    "text": (text or "")[:1000]},
                           id=uuid.uuid5(_IDS, f"skipped:{entry_id}"))
            except TasksCoreError as emit_error:
                log.error("entry-skipped event not emitted: %s", emit_error)
            return None

    def _apply_changes(self, touched: set[str], dropped: dict[str, None]) -> list[Pending]:
        firings: list[Pending] = []
        if self.changes is None:
            return firings
        while (message := self.changes.next(0)) is not None:
            try:
                change = json.loads(message)
                automation_id = str(change["id"])
            except (ValueError, KeyError, TypeError):
                log.warning("automation change message not understood: %r", message)
                continue
            text = self.rt.automations.get(automation_id)
            automation = _parse(text) if text is not None else None
            if automation is None:
                if self.registry.remove(automation_id):
                    log.info("automation %s deleted: unloaded", automation_id)
                dropped[automation_id] = None
                touched.discard(automation_id)
                continue
            dropped.pop(automation_id, None)
            touched.add(automation_id)
            firings += _pending(automation_id, self.registry.put(automation, None, self.now()))
            log.info("automation %r %s: reloaded", automation.name, change.get("op"))
        return firings

    def _execute_pending(self) -> None:
        """Run every pending firing's actions; forget the firings that finished, once the
        events they emitted are written (so a crash loses none of them)."""
        self.retry_at = None
        finished: list[str] = []
        for key, item in self.rt.engine.pending_firings().items():
            loaded = self.registry.loaded.get(str(item.get("automation_id")))
            if loaded is None:  # deleted since it fired: its actions are dropped
                finished.append(key)
                continue
            try:
                firing = Firing.model_validate(item["firing"])
                execute_firing(self.rt, loaded.automation, firing)
            except Retry as exc:
                log.warning("automation %r: firing kept pending, tried again in %g s (%s)",
                            loaded.automation.name, RETRY_S, exc)
                self.retry_at = time.monotonic() + RETRY_S
                continue
            except pydantic.ValidationError as exc:
                log.error("pending firing %s unreadable; dropped: %s", key, exc)
            finished.append(key)
        if finished and not self.rt.emitter.flush():
            log.warning("trigger engine: events not written yet; firings stay pending")
            self.retry_at = time.monotonic() + RETRY_S
            return
        for key in finished:
            self.rt.engine.firing_done(key)


def _pending(automation_id: str, firings: list[Firing]) -> list[Pending]:
    return [(f"{automation_id}:{f.id}", automation_id, f) for f in firings]


def _parse(text: str) -> AutomationModel | None:
    try:
        return AutomationModel.model_validate_json(text)
    except AutomationError as exc:
        log.error("stored automation unreadable; not loaded: %s", exc)
        return None


def run_engine(rt: Runtime, engine: TriggerEngine, leading: Callable[[], bool],
               stop: threading.Event) -> None:
    """Run `engine` while this beat leads, until `stop` (a thread's target)."""
    while not stop.is_set():
        try:
            if not leading():
                if engine.active:
                    engine.stop()
                    log.info("trigger engine: standing by")
                stop.wait(rt.settings.beat_interval_seconds)
                continue
            if not engine.active:
                engine.start()
            engine.step()
        except StoreUnavailable as exc:
            log.warning("trigger engine: Redis unreachable (%s); retrying", exc)
            engine.stop()
            stop.wait(rt.settings.beat_interval_seconds)
        except Exception:  # the engine thread must outlive any surprise
            log.exception("trigger engine: unexpected error; restarting it")
            engine.stop()
            stop.wait(rt.settings.beat_interval_seconds)
    engine.stop()
