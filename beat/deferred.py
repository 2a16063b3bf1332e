"""Deferred runs: send the runs waiting in the due set when their time comes.

Runs with a countdown, an eta or a scheduled time are recorded Scheduled and kept in the
durable due set (not as ETA messages in a worker's memory), so they survive restarts of
every process. `tick(rt, now)` sends each due run's message, then removes it from the set:
a beat that dies in between sends it again next time, and the duplicate is dropped when a
worker claims the run, so a deferred run never runs twice. Scheduled runs not started
`late_after_seconds` after their time become Late.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tasks_core.engine.recovery import resend
from tasks_core.runtime import Runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Transition

__all__ = ["tick"]

log = logging.getLogger("tasks_core.beat.deferred")

PAGE = 500


def tick(rt: Runtime, now: datetime) -> list[str]:
    """Send the due runs; their ids (Late marking included)."""
    due_key = rt.store.keys.due
    ids = [str(i) for i in rt.client.zrangebyscore(due_key, "-inf", now.timestamp(), 0, PAGE)]
    sent = []
    for record in rt.store.get_many(ids):
        if record.state in (StateName.SCHEDULED, StateName.LATE):
            resend(rt, record)
            sent.append(record.id)
    if ids:
        rt.client.zrem(due_key, *ids)
    _mark_late(rt, now)
    return sent


def _mark_late(rt: Runtime, now: datetime) -> None:
    late_after = timedelta(seconds=rt.settings.late_after_seconds)
    for kind in ("flow", "task"):
        index = rt.store.keys.state_index(kind, StateName.SCHEDULED)
        ids = rt.store.ids_until(index, now.timestamp(), PAGE)
        for record in rt.store.get_many(ids):
            when = record.scheduled_time
            if record.state == StateName.SCHEDULED and when and when + late_after < now:
                rt.store.transition(Transition(record.id, StateName.LATE, kind=kind,
                                               message=f"not started {late_after} after "
                                                       f"{when.isoformat()}"))
