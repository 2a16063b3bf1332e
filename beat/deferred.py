"""Deferred runs: send the runs waiting in the due set when their time comes.

Runs with a countdown, an eta or a scheduled time are recorded Scheduled, and delayed
retries AwaitingRetry (while a beat runs), and kept in the durable due set (not as ETA
messages in a worker's memory), so they survive restarts of every process. `tick(rt, now)`
sends each due run's message, then removes it from the set: a beat that dies in between
sends it again next time, and the duplicate is dropped when a worker claims the run, so a
deferred run never runs twice. Runs of a deployment's schedules that are sent more than
`catchup_grace_seconds` late (beat was down) follow its catch-up policy first
(`beat.catchup`). Scheduled runs not started
`late_after_seconds` after their time become Late.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from beat import catchup
from tasks_core.engine.sending import send_next
from tasks_core.process_runtime import Runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName
from tasks_core.store.runs import Transition

__all__ = ["send_due", "tick"]

log = logging.getLogger("tasks_core.beat.deferred")

PAGE = 500

_WAITING = (StateName.SCHEDULED, StateName.LATE, StateName.AWAITING_RETRY)


def tick(rt: Runtime, now: datetime) -> list[str]:
    """Send every run due by `now`, page by page, then mark overdue ones Late; ids sent."""
    sent: list[str] = []
    while True:
        read = rt.due.read(now.timestamp(), PAGE)  # (run id, score exactly as Redis has it)
        if not read:
            break
        records = [r for r in rt.store.get_many(m for m, _ in read) if r.state in _WAITING]
        records = catchup.hold_back(rt, records, now)  # missed schedule runs: their policy
        send_due(rt, records)
        # after sending (a beat dying in between sends again), and only entries unchanged
        # since the read: a run that failed again meanwhile waits for its new retry time
        rt.due.remove_unchanged(read)
        sent.extend(r.id for r in records)
        if len(read) < PAGE:
            break
    _mark_late(rt, now)
    return sent


def send_due(rt: Runtime, records: list[RunRecord]) -> None:
    """Send the messages of due runs (their next attempt), in one round trip."""
    send_next(rt, records)


def _mark_late(rt: Runtime, now: datetime) -> None:
    """Scheduled runs not started `late_after_seconds` after their time become Late (the
    Scheduled index is scored by due time, so only overdue runs are read)."""
    late_after = timedelta(seconds=rt.settings.late_after_seconds)
    cutoff = (now - late_after).timestamp()
    for kind in ("flow", "task"):
        index = rt.store.keys.state_index(kind, StateName.SCHEDULED)
        while True:
            ids = rt.store.ids_until(index, cutoff, PAGE)
            changes = [
                Transition(r.id, StateName.LATE, kind=kind,
                           message=f"not started {late_after} after {r.scheduled_time.isoformat()}")
                for r in rt.store.get_many(ids)
                if r.state == StateName.SCHEDULED and r.scheduled_time is not None
                and r.scheduled_time.timestamp() <= cutoff
            ]
            rt.store.apply_many(changes)
            if len(ids) < PAGE or not changes:
                break
