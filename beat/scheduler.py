"""The scheduler: create the runs of each active deployment's due times, exactly once.

`tick(rt, now)` creates, per deployment, the runs of its schedules' times from the last
time it created (the deployment's schedule mark) up to `now + schedule_horizon_seconds`
(at most `schedule_max_runs` ahead). Each time is created once: its run goes through
run_deployment's idempotency key (deployment + time, SET NX), so two beats, or a beat
restarted mid-tick, cannot fire a time twice. Times missed while beat was down (older than
`catchup_grace_seconds`) follow the deployment's catch-up policy (`beat.catchup`): skip
them, run only the latest (default), or run all (at most `schedule_max_runs`, the newest:
an hour's jump of the clock does not flood the queue). Runs created ahead that were missed
are dealt with when due (`beat.deferred`), by the same policy.

A wall clock set back (beat's pass sees a time earlier than the previous pass did, by more
than `CLOCK_TOLERANCE`) would leave the runs planned on the old clock waiting for as long
as the clock went back: every scheduled deployment is re-planned from the new time instead
(its queued runs cancelled, naming the jump). A clock set forward looks like downtime: the
catch-up policy decides about the times it skipped.

Only due deployments are read: the schedule index (`p:schedules`) holds each active
scheduled deployment with the time beat must next look at it (deploying puts it there, due
now), so a tick with nothing to create is one ZRANGEBYSCORE however many deployments exist.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from beat.schedules import due_times, next_time
from tasks_core.deployment_models import Deployment
from tasks_core.deployments import create_scheduled_run
from tasks_core.process_runtime import Runtime
from tasks_core.scheduling import replan
from tasks_core.store.schedules import Look

__all__ = ["next_look", "plan", "tick"]

log = logging.getLogger("tasks_core.beat.scheduler")

CHUNK = 10  # deployments read and updated together
CLOCK_TOLERANCE = 5.0  # seconds: a wall clock this much behind the last pass went back
_REOPEN_LIMIT = 100_000  # times per schedule freed after the clock went back

def plan(deployment: Deployment, mark: datetime | None, now: datetime, horizon: timedelta,
         limit: int, *, grace: timedelta = timedelta(0)) -> list[datetime]:
    """The times to create runs for (pure): missed ones (before `now - grace`) per the
    catch-up policy, then the current and coming ones.

    At most `limit` times ahead of `now` exist at any moment, however often this runs, and
    at most `limit` missed ones are created (the newest) whatever the policy.
    """
    start = mark or now
    cutoff = now - grace
    until = now + horizon
    ahead_of_now: list[datetime] = []
    for schedule in deployment.schedules:
        ahead_of_now.extend(due_times(schedule, now, until, limit))
    ahead_of_now = sorted(set(ahead_of_now))[:limit]
    if len(ahead_of_now) == limit:
        until = ahead_of_now[-1]
    wanted = {"skip": 0, "latest": 1}.get(deployment.catchup, limit)
    missed = _newest_missed(deployment, start, cutoff, wanted, horizon)
    current: list[datetime] = []
    for schedule in deployment.schedules:
        current.extend(due_times(schedule, max(start, cutoff - _JUST_BEFORE), until, 100_000))
    if start < cutoff - _JUST_BEFORE and len(missed) == wanted:
        log.info("deployment %s: times missed before %s, if any, not created (catchup=%r)",
                 deployment.full_name, (missed[0] if missed else cutoff).isoformat(),
                 deployment.catchup)
    return missed + sorted(set(current))


_JUST_BEFORE = timedelta(microseconds=1)  # (after, until] windows: `cutoff` itself is current


def _newest_missed(deployment: Deployment, start: datetime, cutoff: datetime, count: int,
                   window: timedelta) -> list[datetime]:
    """The newest `count` times of the deployment's schedules in (start, cutoff), oldest
    first (pure): looked for in windows before `cutoff` that grow until they hold `count`
    times or reach `start`, so a long outage costs no more than a short one."""
    if count == 0 or start >= cutoff:
        return []
    while True:
        low = max(start, cutoff - window)
        found: set[datetime] = set()
        for schedule in deployment.schedules:
            found.update(t for t in due_times(schedule, low, cutoff, 1_000_000) if t < cutoff)
        if len(found) >= count or low == start:
            return sorted(found)[-count:]
        window *= 4


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
    _replan_if_clock_went_back(rt, now)
    created: list[str] = []
    seen: set[str] = set()
    while True:
        # scores exactly as Redis has them (for the compare-and-set); skip ones seen already
        read = [(m, sc) for m, sc in rt.schedules.due(now.timestamp(), CHUNK) if m not in seen]
        if not read:
            break
        seen.update(member for member, _ in read)
        created += _tick_chunk(rt, now, read)
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
    if created:
        log.info("scheduler: created %d run(s)", len(created))
    return created


def _replan_if_clock_went_back(rt: Runtime, now: datetime) -> int:
    """Re-plan every scheduled deployment if the wall clock went back since the last pass;
    how many queued runs were cancelled."""
    previous = rt.schedules.swap_clock(now.timestamp())
    if previous is None or previous - now.timestamp() <= CLOCK_TOLERANCE:
        return 0
    back = previous - now.timestamp()
    reason = (f"re-planned: beat's wall clock went back {back:.0f}s (from "
              f"{datetime.fromtimestamp(previous, now.tzinfo).isoformat()})")
    deployments = rt.deployments.get_many(rt.schedules.all_ids())
    until = datetime.fromtimestamp(previous, now.tzinfo)
    cancelled = sum(replan(d, reason, reopen=_used_on_the_wrong_clock(d, now, until))
                    for d in deployments.values())
    log.warning("scheduler: the wall clock went back %.0fs; %d deployment(s) re-planned from "
                "now, %d queued run(s) cancelled", back, len(deployments), cancelled)
    return cancelled


def _used_on_the_wrong_clock(deployment: Deployment, now: datetime,
                             until: datetime) -> list[datetime]:
    """The deployment's times in (now, until], `until` being the latest time beat's clock
    showed: they ran or were skipped as that clock passed them; after it went back they run
    again as it passes them again (so a clock set forward an hour and then corrected, or set
    back an hour, does not stop the schedule for an hour; a job in that window runs twice).
    Times a horizon ahead (`schedule_horizon_seconds`) were only queued: `replan` cancels
    those."""
    times: list[datetime] = []
    for schedule in deployment.schedules:
        try:
            times += due_times(schedule, now, until, _REOPEN_LIMIT)
        except ValueError:
            continue  # an unknown kind: planning reports it
    return times


def _tick_chunk(rt: Runtime, now: datetime, read: list[tuple[str, str]]) -> list[str]:
    """Create the due runs of these deployments (id, score read) and set their next look."""
    ids = [member for member, _ in read]
    found = rt.deployments.get_many(ids)
    marks = rt.schedules.marks(ids)  # one round trip for all
    horizon = timedelta(seconds=rt.settings.schedule_horizon_seconds)
    limit = rt.settings.schedule_max_runs
    grace = timedelta(seconds=rt.settings.catchup_grace_seconds)
    created: list[str] = []
    looks: list[Look] = []
    for (deployment_id, score), raw in zip(read, marks, strict=True):
        deployment = found.get(deployment_id)
        if deployment is None or deployment.paused or not deployment.schedules:
            looks.append(Look(deployment_id, score, None))
            continue
        mark = datetime.fromisoformat(raw) if raw else None
        times = plan(deployment, mark, now, horizon, limit, grace=grace)
        for moment in times:
            run_id, fresh = create_scheduled_run(deployment, moment)
            if fresh:
                created.append(run_id)
        new_mark = max(times) if times else (mark or now)
        look = next_look(deployment, new_mark, now, horizon, limit)
        looks.append(Look(deployment_id, score, None if look is None else look.timestamp(),
                          new_mark.isoformat() if new_mark != mark else None))
    # each entry (and mark) changes only if no deploy or pause changed it since the read;
    # runs of times now past are sent: no longer cancellable
    rt.schedules.set_looks(looks, sent_before=now.timestamp())
    return created
