"""What a change to a deployment's schedules does to beat's schedule index and queued runs.

Beat's scheduler looks only at deployments in the schedule index (`p:schedules`), each at
the time it must next create runs. Deploying with other schedules, pausing, resuming and
deleting call `reschedule`: the runs the old schedules queued and beat has not sent yet are
cancelled (their idempotency keys freed, so the same times can be created again), beat
forgets how far it had created runs, and an active scheduled deployment is put back in the
index due now (with a fresh score below any real time, increasing with the time of the
change, so the oldest change is served first and a tick that read the old entry cannot
overwrite it) and beat is woken.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from tasks_core.deployment_models import Deployment
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Transition

__all__ = ["cancel_queued", "replan", "reschedule", "schedule_key"]

_BEFORE_ANY_TIME = 1e10  # seconds: now minus this is due, yet keeps the order of changes


def schedule_key(scheduled_time: str) -> str:
    """The idempotency key of a deployment's run for one scheduled time (ISO 8601)."""
    return f"schedule:{scheduled_time}"


def reschedule(deployment: Deployment, *, deleted: bool = False) -> int:
    """Apply a change of `deployment`'s schedules or paused flag; runs cancelled."""
    active = bool(deployment.schedules and not deployment.paused and not deleted)
    return replan(deployment, "the deployment's schedules changed" if not deleted
                  else "the deployment was deleted", active=active)


def replan(deployment: Deployment, reason: str, *, active: bool = True,
           reopen: Sequence[datetime] = ()) -> int:
    """Cancel the deployment's queued scheduled runs (state message `reason`), forget how
    far beat created runs, and put it in the index due now (`active`) or take it out; how
    many runs were cancelled. Beat uses it when its wall clock went back, with `reopen`:
    the times between the new clock and the old one, which already ran (or were skipped)
    as the clock passed them; their idempotency keys are freed so they run again as the
    clock passes them again, instead of leaving a gap as long as the jump."""
    cancelled = cancel_queued(deployment, reason)
    get_runtime().idempotency.release(deployment.id,
                                      [schedule_key(t.isoformat()) for t in reopen])
    get_runtime().schedules.reset(deployment.id,
                                  time.time() - _BEFORE_ANY_TIME if active else None)
    return cancelled


def cancel_queued(deployment: Deployment, reason: str) -> int:
    """Cancel the deployment's scheduled runs beat has not sent yet; how many."""
    rt = get_runtime()
    ids = rt.schedules.queued_runs(deployment.id)
    if not ids:
        return 0
    queued = rt.due.unsent(ids)  # still in the due set: not sent yet
    waiting = [r for r in rt.store.get_many(queued) if r.state == StateName.SCHEDULED]
    outcomes = rt.store.apply_many([Transition(r.id, StateName.CANCELLED, kind="flow",
                                               message=reason) for r in waiting])
    cancelled = [r for r, outcome in zip(waiting, outcomes, strict=True) if outcome.applied]
    # free their times: the same times may be created again
    rt.idempotency.release(deployment.id, [schedule_key(r.scheduled_time.isoformat())
                                           for r in cancelled if r.scheduled_time is not None])
    rt.due.remove(queued)
    rt.schedules.forget_queued(deployment.id)
    return len(cancelled)
