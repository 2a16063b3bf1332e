"""The scheduler: create the runs of each active deployment's due times, exactly once.

`tick(rt, now)` creates, per deployment, the runs of its schedules' times from the last
time it created (the deployment's schedule mark) up to `now + schedule_horizon_seconds`
(at most `schedule_max_runs` ahead). Each time is created once: its run goes through
run_deployment's idempotency key (deployment + time, SET NX), so two beats, or a beat
restarted mid-tick, cannot fire a time twice. Times missed while beat was down follow the
deployment's catch-up policy: skip them, run only the latest (default), or run all.

Only due deployments are read: the schedule index (`p:schedules`) holds each active
scheduled deployment with the time beat must next look at it (deploying puts it there, due
now), so a tick with nothing to create is one ZRANGEBYSCORE however many deployments exist.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from beat.schedules import due_times, next_time
from tasks_core.deployment_models import Deployment
from tasks_core.deployments import create_scheduled_run, deployment_store
from tasks_core.runtime import Runtime
from tasks_core.store.runs import score_text

__all__ = ["next_look", "plan", "tick"]

log = logging.getLogger("tasks_core.beat.scheduler")

CHUNK = 10  # deployments read and updated together

# per deployment: id, score read, next look ('' = leave the index), mark key, mark ('' = keep)
_SET_LOOKS = """
for i = 1, #ARGV, 5 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    if ARGV[i + 2] == '' then
      redis.call('ZREM', KEYS[1], ARGV[i])
    else
      redis.call('ZADD', KEYS[1], ARGV[i + 2], ARGV[i])
    end
    if ARGV[i + 4] ~= '' then
      redis.call('SET', ARGV[i + 3], ARGV[i + 4])
    end
  end
end
return 0
"""


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


def next_look(deployment: Deployment, mark: datetime, now: datetime, horizon: timedelta,
              limit: int) -> datetime | None:
    """When the scheduler must look at a deployment again (pure), or None when its
    schedules have ended: when the first time after `mark` comes within the horizon, or,
    if `limit` runs are ahead already, when the first of them is due (one can be added)."""
    following = [t for s in deployment.schedules if (t := next_time(s, mark)) is not None]
    if not following:
        return None
    ahead: list[datetime] = []
    for schedule in deployment.schedules:
        ahead.extend(due_times(schedule, now, now + horizon, limit))
    ahead = sorted(set(ahead))[:limit]
    look = ahead[0] if len(ahead) == limit else min(following) - horizon
    return max(look, now)


def tick(rt: Runtime, now: datetime, *, budget_seconds: float | None = None) -> list[str]:
    """Create the due runs of the deployments due for a look; their run ids.

    Deployments are read `CHUNK` at a time, earliest look first. With `budget_seconds`,
    the tick stops after the chunk that exhausts it: the rest stay due for the next pass,
    so beat sends due runs in between.
    """
    started = time.monotonic()
    created: list[str] = []
    seen: set[str] = set()
    while True:
        raw: Any = rt.client.zrangebyscore(rt.store.keys.schedules, "-inf", now.timestamp(),
                                           0, CHUNK, withscores=True, score_cast_func=score_text)
        # scores exactly as Redis has them (for the compare-and-set); skip ones seen already
        read = [(str(m), str(sc)) for m, sc in raw if str(m) not in seen]
        if not read:
            break
        seen.update(member for member, _ in read)
        created += _tick_chunk(rt, now, read)
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
    if created:
        log.info("scheduler: created %d run(s)", len(created))
    return created


def _tick_chunk(rt: Runtime, now: datetime, read: list[tuple[str, str]]) -> list[str]:
    """Create the due runs of these deployments (id, score read) and set their next look."""
    keys = rt.store.keys
    ids = [member for member, _ in read]
    found = deployment_store().get_many(ids)
    marks = rt.client.mget([keys.schedule_mark(i) for i in ids])  # one round trip for all
    horizon = timedelta(seconds=rt.settings.schedule_horizon_seconds)
    limit = rt.settings.schedule_max_runs
    created: list[str] = []
    looks: dict[str, float | None] = {}
    new_marks: dict[str, str] = {}
    for deployment_id, raw in zip(ids, marks, strict=True):
        deployment = found.get(deployment_id)
        if deployment is None or deployment.paused or not deployment.schedules:
            looks[deployment_id] = None
            continue
        mark = datetime.fromisoformat(str(raw)) if raw else None
        times = plan(deployment, mark, now, horizon, limit)
        for moment in times:
            run_id, fresh = create_scheduled_run(deployment, moment)
            if fresh:
                created.append(run_id)
        new_mark = max(times) if times else (mark or now)
        if new_mark != mark:
            new_marks[deployment_id] = new_mark.isoformat()
        look = next_look(deployment, new_mark, now, horizon, limit)
        looks[deployment_id] = None if look is None else look.timestamp()
    with rt.client.pipeline(transaction=False) as pipe:
        # each entry (and mark) changes only if no deploy or pause changed it since the read
        argv: list[str | float] = []
        for deployment_id, score in read:
            when = looks[deployment_id]
            argv += [deployment_id, score, "" if when is None else when,
                     keys.schedule_mark(deployment_id), new_marks.get(deployment_id, "")]
        pipe.eval(_SET_LOOKS, 1, keys.schedules, *argv)
        for deployment_id in ids:  # runs of times now past are sent: no longer cancellable
            pipe.zremrangebyscore(keys.deployment_scheduled(deployment_id), "-inf",
                                  now.timestamp())
        pipe.execute()
    return created
