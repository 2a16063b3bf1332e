"""Cancelling a run and every run started inside it (the ledger side).

`cancel_run` walks the run's tree (the ledger's children index: a flow's task runs, its
nested flows' placeholders and their flow runs, deployments it started) and, for each run
still live:

- not executing (Scheduled, Late, Pending, Paused, AwaitingRetry): Cancelled at once. A
  message already queued for it, or its entry in beat's due set, is refused at claim time
  (a cancelled run never starts);
- executing (Running, Retrying): Cancelling, and its id is announced on the cancel channel:
  the process running it raises TaskCancelled in its body (`engine.stopping`) and the
  attempt ends the run Cancelled. Cancelling leads only to Cancelled, so an attempt that
  ends anyway, or whose process dies (beat's sweeper), ends it Cancelled too.

With `force`, the runs that are Celery tasks of their own are also revoked with
``terminate=True`` (Celery's `revoke`): a prefork worker kills the process running the
attempt at once, and the worker records Cancelled (workers/signals.py). Celery's threads
and solo pools cannot terminate a task; the announcement still stops it.
"""

from __future__ import annotations

import logging

from tasks_core.errors import RunNotFound
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, is_terminal
from tasks_core.store.runs import Transition

__all__ = ["cancel_purged", "cancel_run"]

log = logging.getLogger("tasks_core.engine")

_EXECUTING = frozenset({StateName.RUNNING, StateName.RETRYING})
_ROUNDS = 5  # a run that moves between our read and our write is read again


def _tree(rt: Runtime, run_id: str) -> list[str]:
    """`run_id` and every run started inside it, parents first."""
    order, seen, i = [run_id], {run_id}, 0
    while i < len(order):
        for child in rt.store.children(order[i]):
            if child not in seen:
                seen.add(child)
                order.append(child)
        i += 1
    return order


def _change(record: RunRecord, reason: str) -> Transition | None:
    if is_terminal(record.state) or record.state == StateName.CANCELLING:
        return None
    if record.state in _EXECUTING:
        return Transition(record.id, StateName.CANCELLING, kind=record.kind, message=reason)
    return Transition(record.id, StateName.CANCELLED, kind=record.kind, message=reason,
                      outcome=True)


def cancel_run(run_id: str, *, force: bool = False, reason: str = "cancelled by request",
               ) -> StateName:
    """Cancel run `run_id` (a task run or a flow run) and every run started inside it.

    Returns the run's state once the request is recorded: Cancelled (it was not executing),
    Cancelling (it is being stopped where it runs), or the final state it had already
    reached (nothing is changed then). Raises RunNotFound for an unknown id.
    """
    rt = get_runtime()
    answer = rt.store.get(run_id).state  # RunNotFound
    pending = _tree(rt, run_id)
    stopping: set[str] = set()
    for _ in range(_ROUNDS):
        records = rt.store.get_many(pending)
        stopping.update(r.id for r in records if r.state == StateName.CANCELLING)
        answer = next((r.state for r in records if r.id == run_id), answer)
        changes = [c for r in records if (c := _change(r, reason)) is not None]
        if not changes:
            break
        outcomes = rt.reporter.apply_now(changes)
        done = [(c, o) for c, o in zip(changes, outcomes, strict=True)]
        stopping.update(c.run_id for c, o in done
                        if o.applied and c.target == StateName.CANCELLING)
        # the answer is the state this request left the run in, not a later read: a run
        # told to stop may end Cancelled at once (a race test_cancel found under load)
        answer = next((StateName(c.target) for c, o in done
                       if c.run_id == run_id and o.applied), answer)
        pending = [c.run_id for c, o in done if not o.applied and not o.missing]
    rt.cancels.announce(sorted(stopping))
    if force and stopping:
        rt.app.control.revoke(sorted(stopping), terminate=True, signal="SIGKILL")
    log.info("run %s: cancel requested (%d run(s) stopping)", run_id, len(stopping))
    return answer


def cancel_purged(run_ids: list[str]) -> None:
    """Cancel the runs whose queued messages Celery's purge deleted (``celery -A tasks_core
    purge``; `store.transport.on_purged`), so no one sends them again: a purge means they
    are not to run. Runs already ended, or gone, are left as they are."""
    for run_id in run_ids:
        try:
            cancel_run(run_id, reason="purged from its queue (Celery's purge)")
        except RunNotFound:
            continue
