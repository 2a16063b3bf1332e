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

from tasks_core.deployment_models import Deployment
from tasks_core.runtime import get_runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Transition

__all__ = ["cancel_queued", "reschedule", "schedule_key"]

_BEFORE_ANY_TIME = 1e10  # seconds: now minus this is due, yet keeps the order of changes


def schedule_key(scheduled_time: str) -> str:
    """The idempotency key of a deployment's run for one scheduled time (ISO 8601)."""
    return f"schedule:{scheduled_time}"


def reschedule(deployment: Deployment, *, deleted: bool = False) -> int:
    """Apply a change of `deployment`'s schedules or paused flag; runs cancelled."""
    rt = get_runtime()
    keys = rt.store.keys
    cancelled = cancel_queued(deployment, "the deployment's schedules changed" if not deleted
                              else "the deployment was deleted")
    with rt.client.pipeline(transaction=True) as pipe:
        pipe.delete(keys.schedule_mark(deployment.id))
        if deployment.schedules and not deployment.paused and not deleted:
            pipe.zadd(keys.schedules, {deployment.id: time.time() - _BEFORE_ANY_TIME})
            pipe.publish(keys.due_wake, "schedules")
        else:
            pipe.zrem(keys.schedules, deployment.id)
        pipe.execute()
    return cancelled


def cancel_queued(deployment: Deployment, reason: str) -> int:
    """Cancel the deployment's scheduled runs beat has not sent yet; how many."""
    rt = get_runtime()
    keys = rt.store.keys
    index = keys.deployment_scheduled(deployment.id)
    ids = [str(i) for i in rt.client.zrange(index, 0, -1)]
    if not ids:
        return 0
    scores = rt.client.zmscore(keys.due, ids)  # still in the due set: not sent yet
    queued = [run_id for run_id, score in zip(ids, scores, strict=True) if score is not None]
    waiting = [r for r in rt.store.get_many(queued) if r.state == StateName.SCHEDULED]
    outcomes = rt.store.apply_many([Transition(r.id, StateName.CANCELLED, kind="flow",
                                               message=reason) for r in waiting])
    cancelled = [r for r, outcome in zip(waiting, outcomes, strict=True) if outcome.applied]
    with rt.client.pipeline(transaction=False) as pipe:
        for record in cancelled:  # free their times: the same times may be created again
            if record.scheduled_time is not None:
                pipe.delete(keys.idempotency(
                    deployment.id, schedule_key(record.scheduled_time.isoformat())))
        if queued:
            pipe.zrem(keys.due, *queued)
        pipe.delete(index)
        pipe.execute()
    return len(cancelled)
