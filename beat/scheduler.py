"""The scheduler: create the runs of each active deployment's due times, exactly once.

`tick(rt, now)` creates, per deployment, the runs of its schedules' times from the last
time it created (the deployment's schedule mark) up to `now + schedule_horizon_seconds`
(at most `schedule_max_runs` ahead). Each time is created once: its run goes through
run_deployment's idempotency key (deployment + time, SET NX), so two beats, or a beat
restarted mid-tick, cannot fire a time twice. Times missed while beat was down follow the
deployment's catch-up policy: skip them, run only the latest (default), or run all.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from beat.schedules import due_times
from tasks_core.deployment_models import Deployment
from tasks_core.deployments import create_scheduled_run, deployment_store
from tasks_core.runtime import Runtime

__all__ = ["plan", "tick"]

log = logging.getLogger("tasks_core.beat.scheduler")


def plan(deployment: Deployment, mark: datetime | None, now: datetime, horizon: timedelta,
         limit: int) -> list[datetime]:
    """The times to create runs for (pure): missed ones per the catch-up policy, then ahead.

    At most `limit` times ahead of `now` exist at any moment, however often this runs.
    """
    start = mark or now
    until = now + horizon
    ahead_of_now: list[datetime] = []
    for schedule in deployment.schedules:
        ahead_of_now.extend(due_times(schedule, now, until, limit))
    ahead_of_now = sorted(set(ahead_of_now))[:limit]
    if len(ahead_of_now) == limit:
        until = ahead_of_now[-1]
    times: list[datetime] = []
    for schedule in deployment.schedules:
        times.extend(due_times(schedule, start, until, 100_000))
    times = sorted(set(times))
    missed = [t for t in times if t < now]
    ahead = [t for t in times if t >= now]
    if deployment.catchup == "skip":
        missed = []
    elif deployment.catchup == "latest":
        missed = missed[-1:]
    return missed + ahead


def tick(rt: Runtime, now: datetime) -> list[str]:
    """Create the due runs of every active scheduled deployment; their run ids."""
    created: list[str] = []
    horizon = timedelta(seconds=rt.settings.schedule_horizon_seconds)
    active = [d for d in deployment_store().list() if d.schedules and not d.paused]
    keys = [rt.store.keys.schedule_mark(d.id) for d in active]
    marks = rt.client.mget(keys) if keys else []  # one round trip for every mark
    for deployment, key, raw in zip(active, keys, marks, strict=True):
        mark = datetime.fromisoformat(str(raw)) if raw else None
        times = plan(deployment, mark, now, horizon, rt.settings.schedule_max_runs)
        for moment in times:
            run_id, fresh = create_scheduled_run(deployment, moment)
            if fresh:
                created.append(run_id)
        if times:
            rt.client.set(key, max(times).isoformat())
        elif mark is None:
            rt.client.set(key, now.isoformat())
    if created:
        log.info("scheduler: created %d run(s)", len(created))
    return created
