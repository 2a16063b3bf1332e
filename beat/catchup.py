"""Catch-up: what happens to a deployment's scheduled runs whose time was missed.

A scheduled run is *missed* when beat sends it more than `catchup_grace_seconds` after its
time (beat was down, no leader for a while, or the wall clock jumped forward). Beat plans
runs ahead (up to an hour), so missed times usually exist already as Scheduled runs in the
due set; the scheduler meets the others (times after what it had planned) in `plan`. The
deployment's `catchup` policy decides for both, the same way:

- ``skip``: no missed run runs; each is Cancelled with a message naming the policy;
- ``latest`` (default): only the newest missed run runs, the others are skipped as above;
- ``all``: every missed run runs.

Only runs beat created for a deployment's schedules are subject to it (the deployment's
scheduled-run index holds them); runs made by hand (`deployment run`, `run_deployment`
with a scheduled time, `apply_async(countdown=...)`) always run. A skipped time keeps its
idempotency key: it is not created again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from beat.schedules import next_time
from tasks_core.deployment_models import Deployment
from tasks_core.process_runtime import Runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName
from tasks_core.store.runs import Transition

__all__ = ["decide", "hold_back", "newer_time_missed", "skip_message"]

log = logging.getLogger("tasks_core.beat.catchup")

_WAITING = (StateName.SCHEDULED, StateName.LATE)


def decide(policy: str, missed: Sequence[tuple[str, datetime]], *,
           newer_missed: bool = False) -> tuple[list[str], list[str]]:
    """Split a deployment's missed runs (run id, scheduled time) by its catch-up `policy`
    (pure): (ids to run, ids to skip). `newer_missed`: a later time of its schedules was
    missed too and is not among them (the scheduler creates it), so under ``latest`` that
    one is the newest and all of these are skipped. ValueError for an unknown policy."""
    ids = [run_id for run_id, _ in sorted(missed, key=lambda pair: pair[1])]
    if policy == "all":
        return ids, []
    if policy == "skip" or (policy == "latest" and (newer_missed or not ids)):
        return [], ids
    if policy == "latest":
        return ids[-1:], ids[:-1]
    raise ValueError(f"unknown catchup policy {policy!r} (known: skip, latest, all)")


def newer_time_missed(deployment: Deployment, newest: datetime, cutoff: datetime) -> bool:
    """Whether one of the deployment's schedules has a time after `newest` and before
    `cutoff` (pure)."""
    return any((t := next_time(s, newest)) is not None and t < cutoff
               for s in deployment.schedules)


def skip_message(policy: str, scheduled: datetime, now: datetime) -> str:
    """The state message of a run skipped by the catch-up policy."""
    late = (now - scheduled).total_seconds()
    return (f"skipped by the deployment's catch-up policy {policy!r}: its time "
            f"{scheduled.astimezone(UTC).isoformat()} was missed by {late:.1f}s")


def hold_back(rt: Runtime, records: list[RunRecord], now: datetime) -> list[RunRecord]:
    """Of due `records` about to be sent at `now`, those to send: the missed runs of
    deployments' schedules follow each deployment's catch-up policy; the skipped ones are
    Cancelled (with `skip_message`) and taken out of the due set, here or on a later page."""
    cutoff = now - timedelta(seconds=rt.settings.catchup_grace_seconds)
    candidates = {r.deployment_id for r in records if r.kind == "flow" and r.deployment_id
                  and r.scheduled_time is not None and r.scheduled_time < cutoff
                  and r.state in _WAITING}
    if not candidates:
        return records
    deployments = rt.deployments.get_many(sorted(d for d in candidates if d))
    overdue = rt.schedules.overdue(sorted(deployments), cutoff.timestamp())
    # the index may still hold runs sent already (it is trimmed when the scheduler next
    # looks at the deployment): only those still in the due set were missed
    # and a run whose attempt failed waits there again (AwaitingRetry): not a missed time
    unsent = {r.id for r in rt.store.get_many(rt.due.unsent(
        [run_id for pairs in overdue.values() for run_id, _ in pairs])) if r.state in _WAITING}
    skipped: set[str] = set()
    for deployment_id, pairs in overdue.items():
        missed = [(run_id, datetime.fromtimestamp(ts, UTC)) for run_id, ts in pairs
                  if run_id in unsent]
        if not missed:
            continue
        deployment = deployments[deployment_id]
        newer = deployment.catchup == "latest" and newer_time_missed(
            deployment, max(t for _, t in missed), cutoff)
        skip = set(decide(deployment.catchup, missed, newer_missed=newer)[1])
        skipped.update(_skip(rt, deployment, [p for p in missed if p[0] in skip], now))
    return [r for r in records if r.id not in skipped]


def _skip(rt: Runtime, deployment: Deployment, runs: list[tuple[str, datetime]],
          now: datetime) -> list[str]:
    """Cancel these missed runs of a deployment (read Scheduled or Late and still in the
    due set: no worker has their message); their ids."""
    if not runs:
        return []
    ids = [run_id for run_id, _ in runs]
    # one that ended meanwhile (cancelled by hand, say) is refused and stays as it is
    outcomes = rt.store.apply_many([
        Transition(run_id, StateName.CANCELLED, kind="flow",
                   message=skip_message(deployment.catchup, t, now)) for run_id, t in runs])
    rt.due.remove(ids)
    rt.schedules.forget_runs(deployment.id, ids)
    log.warning("deployment %s: %d missed scheduled run(s) skipped (catchup=%r)",
                deployment.full_name, sum(o.applied for o in outcomes), deployment.catchup)
    return ids
