"""`tasks-core beat`: schedules, deferred runs and the sweeper, under one leader lock.

Several beats may run; one holds the lock (`p:lock:beat`) and works, the others stand by
and take over within `3 x beat_interval_seconds` after the leader dies. While it leads, a
keeper thread renews the lock every interval, so a long pass (a first scheduler tick that
creates many runs) does not lose it.

The leader does not poll blindly: after each pass it sleeps until the earliest due run or
schedule look (at most `beat_interval_seconds`), and wakes at once when a run due earlier
than any other is added (create.lua and transition.lua publish on `p:due:wake`) or a
deployment's schedules change. So a deferred run is sent within milliseconds of its time.
Every job takes `now`, so tests drive time without sleeping. Due times are compared with
the wall clock, waits use the monotonic clock (`beat.clock`).

The trigger engine (`beat.triggers`) runs in its own thread while this beat leads: it reads
the event stream through a consumer group and runs automations' actions.

Each lock round trip reports beat's contact with Redis (`tasks_core.engine.contact`): after
Redis was away or stalled, the sweeper takes no run's owner for dead by a missing heartbeat
until contact has held for a heartbeat timeout (live workers write theirs again meanwhile).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from beat import clock, deferred, pools, scheduler, sweeper
from beat.triggers.engine import TriggerEngine, run_engine
from tasks_core.errors import StoreUnavailable
from tasks_core.periodic.sync import configured_entries, sync_beat_schedule
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.store.locks import BEAT_LOCK

__all__ = ["Beat", "is_leader", "run_beat"]

log = logging.getLogger("tasks_core.beat")

MIN_WAIT = 0.002  # seconds: never spin, even if something stays due
SCHEDULER_BUDGET = 0.02  # seconds of run creation per pass; the rest waits for the next pass


def is_leader(rt: Runtime, me: str, *, take: bool = True) -> bool:
    """Keep the beat lock, or take it when free (unless `take` is False); whether this
    process leads now. Atomic."""
    ttl_ms = int(rt.settings.beat_interval_seconds * 3000)
    try:
        held = rt.locks.hold(BEAT_LOCK, me, ttl_ms, take=take)
    except (StoreUnavailable, OSError):
        rt.contact.lost()  # the sweeper judges heartbeats by it (`engine.contact`)
        raise
    rt.contact.ok()
    return held


class Beat:
    """One beat process's work: `step()` makes a pass if it leads and says how long to
    wait before the next one."""

    def __init__(self, rt: Runtime, me: str) -> None:
        self.rt = rt
        self.me = me
        self.leading = False
        self.next_sweep = 0.0

    def step(self) -> float:
        """One pass (when leading); seconds until the next pass is needed."""
        interval = self.rt.settings.beat_interval_seconds
        self.leading = is_leader(self.rt, self.me)
        if not self.leading:
            return interval
        deferred.tick(self.rt, clock.now())  # due runs first: nothing else delays them
        scheduler.tick(self.rt, clock.now(), budget_seconds=SCHEDULER_BUDGET)
        now = clock.now()
        if time.monotonic() >= self.next_sweep:
            pools.tick(self.rt, now)
            self.rt.events.trim(now.timestamp())  # event retention by age (run events too)
            report = sweeper.tick(self.rt, now)
            if report.crashed or report.resent:
                log.info("sweep: %d recovered, %d re-sent", len(report.crashed),
                         len(report.resent))
            self.next_sweep = time.monotonic() + self.rt.settings.sweep_interval_seconds
        return self.wait_hint(interval)

    def wait_hint(self, interval: float) -> float:
        """Seconds until the earliest due run, schedule look or sweep, within the interval
        (so a wall clock set back never makes beat sleep longer than the interval)."""
        wait = min(interval, self.next_sweep - time.monotonic())
        now = clock.now().timestamp()
        for head in self.rt.due.heads():
            wait = min(wait, head - now)
        return max(MIN_WAIT, wait)


def _keep_lock(rt: Runtime, beat: Beat, stop: threading.Event) -> None:
    """Renew the lock every interval while this process leads (never takes it)."""
    while not stop.wait(rt.settings.beat_interval_seconds):
        if beat.leading:
            try:
                beat.leading = is_leader(rt, beat.me, take=False)
            except Exception:  # Redis away: the main loop reports it
                log.debug("lock renewal failed", exc_info=True)


def run_beat(*, stop: threading.Event | None = None, loglevel: str = "INFO") -> None:
    """Run the beat loop until stopped.

    First, the ``beat_schedule`` entries of the settings and of the Celery app's conf (set
    by modules imported before this) become deployments (`tasks_core.periodic.sync`).

    Raises:
        ConfigurationError: a bad ``beat_schedule`` entry, named.
    """
    logging.basicConfig(level=loglevel, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rt = get_runtime()
    rt.contact.set_period(rt.settings.beat_interval_seconds)  # its lock's round trips
    entries = configured_entries(rt.app.conf.get("beat_schedule"))
    synced = False
    stop = stop or threading.Event()
    beat = Beat(rt, f"{socket.gethostname()}:{os.getpid()}")
    wake = rt.due.subscribe()
    keeper = threading.Thread(target=_keep_lock, args=(rt, beat, stop), name="beat-lock",
                              daemon=True)
    keeper.start()
    engine = threading.Thread(target=run_engine, name="beat-triggers",
                              args=(rt, TriggerEngine(rt, beat.me), lambda: beat.leading, stop),
                              daemon=True)
    engine.start()
    log.info("beat started (%s)", beat.me)
    try:
        while not stop.is_set():
            try:
                if not synced:
                    sync_beat_schedule(entries, timezone=rt.app.conf.timezone)
                    synced = True
                wait = beat.step()
                if stop.is_set():
                    break
                wake.wait(wait)  # a message on the wake channel ends the wait early
            except StoreUnavailable as exc:  # Redis away: keep trying
                rt.contact.lost()
                log.warning("beat: Redis unreachable (%s); retrying", exc)
                beat.leading = False
                stop.wait(rt.settings.beat_interval_seconds)
    finally:
        stop.set()
        wake.close()
        keeper.join(timeout=5)
        engine.join(timeout=5)
