"""Runs whose process died or whose message was lost: find them and recover them.

Shared by the worker (a redelivered message finds its run still Running under a dead
process) and beat's sweeper (periodic scans). Every change is a transition with the attempt
it expects, so two recoverers racing cannot both act.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta

from tasks_core.celery_app import EXECUTE_FLOW
from tasks_core.dispatch import Envelope, hard_time_limit
from tasks_core.proc import pid_alive
from tasks_core.records import RunOptions, RunRecord
from tasks_core.runtime import Runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Outcome, Transition, utcnow

__all__ = ["beat_running", "handle_refused_claim", "owner_alive", "recover_crashed", "resend",
           "send_next_attempt"]

HOST = socket.gethostname()

log = logging.getLogger("tasks_core.recovery")


def beat_running(rt: Runtime) -> bool:
    """Whether a beat holds its leader lock, so runs left in the due set will be sent."""
    return bool(rt.client.exists(rt.store.keys.lock("beat")))


def owner_alive(rt: Runtime, owner: str | None) -> bool:
    """Whether the process that claimed a run still lives.

    On this host the pid is checked directly; elsewhere its heartbeat key must exist.
    """
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host == HOST and pid.isdigit() and not pid_alive(int(pid)):
        return False
    return bool(rt.client.exists(rt.store.keys.proc(owner)))


def envelope_for(
    run_id: str,
    attempt: int,
    *,
    queue: str,
    name: str,
    parameters: str,
    priority: int,
    options: RunOptions,
    eta: datetime | None = None,
) -> Envelope:
    """The message that (re)starts attempt `attempt` of a run."""
    timeout = options.timeout_seconds
    return Envelope.for_run(
        run_id, attempt, queue=queue, name=name, argsrepr=parameters[:256], priority=priority,
        eta=eta, time_limit=hard_time_limit(timeout))


def record_envelope(record: RunRecord, attempt: int, eta: datetime | None = None) -> Envelope:
    """The message that (re)starts attempt `attempt` of a recorded run (task or flow)."""
    if record.kind == "flow":
        return Envelope(message_id=record.id if attempt <= 1 else f"{record.id}.{attempt}",
                        args=[record.id, attempt], queue=record.queue or "default",
                        shadow=record.name, argsrepr=json.dumps(record.parameters)[:256],
                        task=EXECUTE_FLOW, eta=eta)
    return envelope_for(
        record.id, attempt, queue=record.queue or "default", name=record.name,
        parameters=json.dumps(record.parameters), priority=record.priority,
        options=record.options, eta=eta)


def _send_with(rt: Runtime, change: Transition, envelope: Envelope) -> Outcome:
    """Apply `change` and send `envelope`: together when direct, else record first."""
    change.push = rt.dispatcher.push_for(envelope)
    outcome = rt.store.transition(change)
    if outcome.applied and change.push is None:
        rt.dispatcher.publish(envelope)
    return outcome


def handle_refused_claim(rt: Runtime, run_id: str, attempt: int, outcome: Outcome) -> None:
    """A claim was refused: drop a duplicate, or recover a run whose process died."""
    if outcome.missing:
        log.warning("run %s: no record (expired or never created); message dropped", run_id)
        return
    running = outcome.state in (StateName.RUNNING, StateName.RETRYING)
    if running and outcome.attempt == attempt and not owner_alive(rt, outcome.owner):
        result = recover_crashed(rt, rt.store.get(run_id))
        log.warning("run %s: owner %s died mid-run; recovered (%s)", run_id, outcome.owner,
                    "applied" if result.applied else "already handled")
        return
    log.info("run %s: attempt %d already claimed or finished (state %s); duplicate dropped",
             run_id, attempt, outcome.state)


def recover_crashed(rt: Runtime, record: RunRecord, *, now: datetime | None = None) -> Outcome:
    """A run whose owner died mid-attempt: retried when it has retries left, else Crashed."""
    now = now or utcnow()
    attempt = record.attempt
    reason = f"process {record.owner} died during attempt {attempt}"
    options = record.options
    if attempt <= options.retries:
        delays = options.retry_delays or [0.0]
        delay = delays[min(attempt - 1, len(delays) - 1)]
        when = now + timedelta(seconds=delay)
        change = Transition(
            record.id, StateName.AWAITING_RETRY, message=f"{reason}; retrying in {delay:g}s",
            expected_attempt=attempt, at=now, kind=record.kind,
            fields={"scheduled_time": when.isoformat()})
        if delay > 0 and beat_running(rt):  # beat's durable due set sends it then
            change.due = when
            return rt.store.transition(change)
        eta = when if delay > 0 else None
        return _send_with(rt, change, record_envelope(record, attempt + 1, eta))
    outcome = rt.store.transition(Transition(record.id, StateName.CRASHED, message=reason,
                                             expected_attempt=attempt, at=now,
                                             kind=record.kind))
    if outcome.applied and record.kind == "flow":
        if record.parent_task_run_id:  # the parent's placeholder mirrors the child's end
            rt.store.transition(Transition(record.parent_task_run_id, StateName.CRASHED,
                                           message=reason, at=now))
        if record.queue:
            from tasks_core.work_pools import release_slot

            release_slot(record.queue, record.id)
    return outcome


def resend(rt: Runtime, record: RunRecord) -> None:
    """Send a run's message again (it was lost): a duplicate is dropped at claim time."""
    send_next_attempt(rt, [record])


def send_next_attempt(rt: Runtime, records: Sequence[RunRecord]) -> None:
    """Send the message of each run's next attempt (one round trip when the broker is the
    ledger's Redis); a duplicate is dropped at claim time."""
    with rt.client.pipeline(transaction=False) as pipe:
        for record in records:
            envelope = record_envelope(record, record.attempt + 1)
            push = rt.dispatcher.push_for(envelope)
            if push is not None:
                pipe.lpush(push.key, push.payload)
            else:
                rt.dispatcher.publish(envelope)
        pipe.execute()
