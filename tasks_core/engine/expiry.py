"""Celery's ``expires``: a run not started by its expiry time ends Cancelled ("expired").

Celery revokes a message whose ``expires`` has passed when a worker receives it. Here the
run record holds the time (`RunRecord.expires`) and two places end such a run, both by an
atomic transition that cannot touch a run that has started meanwhile:

- the worker's claim refuses an expired run (transition.lua checks ``expires``; the claim
  asks it to, `engine.claim`), and the worker then ends it Cancelled (`end_expired`);
- beat's sweeper ends the queued runs nobody claimed by their time (`expire_due`), so a run
  on a queue no worker serves does not sit Pending forever.

Either way the run's state message is ``expired`` and its error type ``Expired``; the
worker shows it to Celery as a revoked task with ``expired=True`` (``task_revoked``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from tasks_core.engine.outcome import Fail
from tasks_core.process_runtime import Runtime
from tasks_core.records import ErrorInfo
from tasks_core.states import StateName
from tasks_core.store.runs import Transition

__all__ = ["EXPIRED", "WAITING", "end_expired", "expire_due", "is_expired"]

log = logging.getLogger("tasks_core.engine")

EXPIRED = "expired"
"""The state message (and reason) of a run that expired before it started."""

WAITING = (StateName.PENDING, StateName.SCHEDULED, StateName.LATE, StateName.AWAITING_RETRY)
"""States of a run that has not started its next attempt: the ones an expiry ends."""


def _ending(run_id: str, expected_attempt: int, kind: str) -> Transition:
    return Transition(run_id, StateName.CANCELLED, message=EXPIRED, kind=kind,
                      expected_attempt=expected_attempt,
                      fields={"error": ErrorInfo(type="Expired", message=EXPIRED)
                              .model_dump_json()})


def end_expired(rt: Runtime, run_id: str, attempt: int, kind: str = "task") -> Fail | None:
    """End a run whose claim of attempt `attempt` was refused as expired: Cancelled with
    message ``expired``; the decision to show Celery (None: another process ended it)."""
    outcome = rt.reporter.apply_now([_ending(run_id, attempt - 1, kind)])[0]
    rt.expiring.remove([run_id])
    if not outcome.applied:
        return None
    log.info("run %s expired before it started: Cancelled", run_id)
    return Fail(StateName.CANCELLED, ErrorInfo(type="Expired", message=EXPIRED))


def is_expired(decision: object) -> bool:
    """Whether `decision` is the end of a run that expired (`end_expired`)."""
    return (isinstance(decision, Fail) and decision.state == StateName.CANCELLED
            and decision.error is not None and decision.error.type == "Expired")


def expire_due(rt: Runtime, now: datetime, limit: int = 1000) -> list[str]:
    """End the runs of the expiry index whose time is at or before `now` and that are
    still waiting (`WAITING`); the ids ended. A run that started meanwhile (its attempt
    moved on) is left alone."""
    ids = rt.expiring.due(now, limit)
    if not ids:
        return []
    ended: list[str] = []
    changes = []
    for record in rt.store.get_many(ids):
        if record.state in WAITING:
            changes.append(_ending(record.id, record.attempt, record.kind))
    for change, outcome in zip(changes, rt.store.apply_many(changes), strict=True):
        if outcome.applied:
            ended.append(change.run_id)
    rt.expiring.remove(ids)
    if ended:
        log.info("%d queued runs expired before they started: Cancelled", len(ended))
    return ended
