"""The sweeper: every run reaches a terminal state, whatever process or message is lost.

`tick(rt, now)` makes one pass:
- Running/Retrying runs whose owner process is dead (pid gone on this host, or heartbeat
  expired) are recovered: retried when they have retries left, else Crashed. A Cancelling
  run whose owner is dead ends Cancelled; one whose owner lives is asked to stop again (the
  cancel channel is pub/sub: a process may have missed the first request).
- Pending/Scheduled/Late/AwaitingRetry runs due more than `pending_resend_seconds` ago, on
  a queue that is empty (so their message is not simply waiting behind others; its priority
  lists count too), get their message again; a duplicate is dropped when claimed. Late is a
  Scheduled run past its time (beat's deferred tick marks it): a worker claims it like a
  Scheduled one, so a Late run whose message was lost is re-sent the same way.
- Index entries of runs whose records expired are pruned, in bounded batches
  (`beat.pruning`: terminal state indexes by entry time and the state's TTL, the
  by-creation index by checking old candidates; runs not ended are never removed).
- Pauses past their timeout that no process ended (a suspended run, or a paused process
  that died) end their run Failed (`tasks_core.pausing.expire_pauses`).
- Runs sent with Celery's ``expires`` and still queued at that time end Cancelled
  ("expired", `tasks_core.engine.expiry`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from beat.pruning import prune
from tasks_core.engine.expiry import expire_due
from tasks_core.engine.recovery import owner_alive, recover_crashed, resend
from tasks_core.pausing import expire_pauses
from tasks_core.process_runtime import Runtime
from tasks_core.states import StateName

__all__ = ["SweepReport", "tick"]

log = logging.getLogger("tasks_core.beat.sweeper")

PAGE = 1000

RESENT = (StateName.PENDING, StateName.SCHEDULED, StateName.LATE, StateName.AWAITING_RETRY)
"""Waiting states whose lost message the sweeper sends again."""


@dataclass
class SweepReport:
    """What one pass did."""

    crashed: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    trimmed: int = 0
    pauses_expired: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def tick(rt: Runtime, now: datetime) -> SweepReport:
    """One sweep at time `now`, over task runs and flow runs."""
    report = SweepReport(expired=expire_due(rt, now))
    for kind in ("task", "flow"):
        _recover_dead_owners(rt, now, kind, report)
        _resend_stale(rt, now, kind, report)
        report.trimmed += prune(rt, now, kind).removed
    report.pauses_expired = expire_pauses(rt, now)  # Paused past its timeout: Failed
    return report


def _recover_dead_owners(rt: Runtime, now: datetime, kind: str, report: SweepReport) -> None:
    keys = rt.store.keys
    grace = now.timestamp() - rt.settings.heartbeat_interval_seconds
    alive: dict[str, bool] = {}
    stopping: list[str] = []
    for state in (StateName.RUNNING, StateName.RETRYING, StateName.CANCELLING):
        ids = rt.store.ids_until(keys.state_index(kind, state), grace, PAGE)
        for record in rt.store.get_many(ids):
            if record.state != state or not record.owner:
                continue
            if record.owner not in alive:
                alive[record.owner] = owner_alive(rt, record.owner)
            if alive[record.owner] and state == StateName.CANCELLING:
                stopping.append(record.id)
            elif not alive[record.owner] and recover_crashed(rt, record, now=now):
                report.crashed.append(record.id)
                log.warning("run %s: owner %s is gone; recovered", record.id, record.owner)
    rt.cancels.announce(stopping)


def _resend_stale(rt: Runtime, now: datetime, kind: str, report: SweepReport) -> None:
    keys = rt.store.keys
    bound = rt.settings.pending_resend_seconds
    cutoff = (now - timedelta(seconds=bound)).timestamp()
    busy: dict[str, bool] = {}
    for state in RESENT:
        # the Late index is kept by when a run became Late, after its due time: read it
        # all (only overdue runs are there) and judge each by its due time, like the rest
        until = now.timestamp() if state == StateName.LATE else cutoff
        ids = rt.store.ids_until(keys.state_index(kind, state), until, PAGE)
        for record in rt.store.get_many(ids):
            due = record.scheduled_time or record.created
            if record.state != state or due.timestamp() > cutoff:
                continue
            queue = record.queue or rt.settings.default_pool
            if queue not in busy:
                busy[queue] = rt.queues.depth(queue) > 0
            if busy[queue]:
                continue
            resend(rt, record)
            report.resent.append(record.id)
            log.warning("run %s: %s for over %gs with no claim; message sent again",
                        record.id, state.value, bound)
