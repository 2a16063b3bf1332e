"""Runs whose process died or whose message was lost: find them and recover them.

Shared by the worker (a redelivered message finds its run still Running under a dead
process) and beat's sweeper (periodic scans). A crash is concluded by the same lifecycle
as any attempt (`lifecycle.conclude` with `Ended.crash`): retried with the same delays and
jitter while attempts remain, else Crashed, mirrored onto a parent's placeholder. Every
change expects the attempt it ends, so two recoverers racing cannot both act. A run that
ends Crashed here calls its ``on_crashed`` hooks here (in beat's sweeper or in the worker
that got the redelivered message), when its task or flow can be found (`definition_of`).

A message whose run has no record (expired, never created, or written under another key
prefix) is set aside in the dead-letter list with the reason (`set_aside_missing`), never
dropped silently.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import datetime
from typing import Any

from celery.exceptions import Reject

from tasks_core.celery_app import EXECUTE_CHUNK
from tasks_core.dispatch import Envelope, redis_push
from tasks_core.engine.claim import give_back_given_up, take_given_up
from tasks_core.engine.context import RunFrame
from tasks_core.engine.entrypoints import deployment_flow
from tasks_core.engine.hooks import RunHooks
from tasks_core.engine.lifecycle import Concluded, RunHandle, conclude
from tasks_core.engine.outcome import Decision, Ended, Retry
from tasks_core.engine.sending import send_next
from tasks_core.messages import DeadLetter, Delivery, current_delivery
from tasks_core.proc import pid_alive
from tasks_core.process_runtime import Runtime
from tasks_core.records import RunRecord
from tasks_core.registry import resolve
from tasks_core.states import StateName
from tasks_core.store.connection import StoreError
from tasks_core.store.runs import Outcome
from tasks_core.work_pools import release_slot

__all__ = ["definition_of", "handle_refused_claim", "owner_alive", "recover", "recover_crashed",
           "resend", "set_aside_missing", "settle_given_up"]

HOST = socket.gethostname()

PLACEHOLDER_KEYS = ("subflow:", "deployment:")
"""Task keys of placeholder task runs (`new_runs.placeholder_run`): no task, no hooks."""

log = logging.getLogger("tasks_core.recovery")


def owner_alive(rt: Runtime, owner: str | None) -> bool:
    """Whether the process that claimed a run still lives.

    On this host a gone pid is dead at once. Otherwise its heartbeat key must exist, but
    a missing key counts only while this process trusts its contact with Redis
    (`engine.contact`): after Redis was away or stalled, live processes may not have
    written theirs yet, and the owner is taken for alive until contact held for a
    heartbeat timeout (its run is left for a later sweep).
    """
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host == HOST and pid.isdigit() and not pid_alive(int(pid)):
        return False
    began = time.monotonic()
    if rt.procs.alive(owner):
        return True
    rt.contact.took(time.monotonic() - began)  # a stall seen by this very read
    if not rt.contact.trusted():
        log.info("owner %s has no heartbeat, but Redis was away lately: judged later", owner)
        return True
    return False


def handle_refused_claim(rt: Runtime, run_id: str, attempt: int,
                         outcome: Outcome) -> Decision | None:
    """A claim was refused: set aside a message whose run has no record, drop a duplicate
    (None for both), or recover a run whose process died (how the crash was concluded,
    when this call did it)."""
    if outcome.missing:
        set_aside_missing(rt, run_id, attempt)
        return None
    running = outcome.state in (StateName.RUNNING, StateName.RETRYING)
    if running and outcome.attempt == attempt and not owner_alive(rt, outcome.owner):
        concluded = recover(rt, rt.store.get(run_id))
        log.warning("run %s: owner %s died mid-run; recovered (%s)", run_id, outcome.owner,
                    "applied" if concluded.applied else "already handled")
        return concluded.decision if concluded.applied else None
    log.info("run %s: attempt %d already claimed or finished (state %s); duplicate dropped",
             run_id, attempt, outcome.state)
    return None


def recover_crashed(rt: Runtime, record: RunRecord, *, now: datetime | None = None) -> bool:
    """A run whose owner died mid-attempt: retried while it has attempts left (a flow run
    only when a deployment can start it again), else Crashed (Cancelled when it was being
    cancelled); whether this call did it."""
    concluded = recover(rt, record, now=now)
    return concluded.applied or concluded.cancelled


def recover(rt: Runtime, record: RunRecord, *, now: datetime | None = None,
            reason: str | None = None) -> Concluded:
    """`recover_crashed`, saying how the crash was concluded (`reason`: the state message's
    text, by default that the owner died during the attempt)."""
    reason = reason or f"process {record.owner} died during attempt {record.attempt}"
    is_flow = record.kind == "flow"
    handle = RunHandle(
        record.id, record.kind, record.options, RunFrame(record.id, record.kind),
        placeholder_id=record.parent_task_run_id if is_flow else None, retry_here=False,
        on_worker=True, requeue=record, may_retry=not is_flow or bool(record.deployment_id),
        hooks=RunHooks.recovered(record, lambda: definition_of(rt, record)))
    concluded = conclude(rt, handle, record.attempt, Ended.crash(reason), now)
    ended = concluded.cancelled or (concluded.applied
                                    and not isinstance(concluded.decision, Retry))
    if ended and is_flow and record.queue:
        release_slot(record.queue, record.id)
    return concluded


def settle_given_up(rt: Runtime) -> list[str]:
    """Recover the runs of claims this process gave up while Redis was away
    (`engine.claim.apply_claims`) that Redis had applied after all (their replies lost with
    the connection): such a run is Running under this live process, which never runs it,
    and no sweeper takes a live owner's run. Each is concluded as an attempt that did not
    run (retried while it has retries, else Crashed, saying so); a claim not applied, or
    a run moved on since (its claim token is not this one's), is left alone. The ids
    recovered. Called by the process's heartbeat once Redis answers (`workers.heartbeat`).

    Raises:
        StoreUnavailable: Redis went away again (the claims not settled are kept).
    """
    claims = take_given_up()
    recovered: list[str] = []
    try:
        for run_id, (token, attempt) in list(claims.items()):
            try:
                if _settle_one(rt, run_id, token, attempt):
                    recovered.append(run_id)
            except ConnectionError:
                raise  # Redis away again: this one and the rest are kept
            except Exception:  # one that cannot be settled does not hold up the others
                log.exception("run %s: a claim given up while Redis was away could not be "
                              "settled", run_id)
            del claims[run_id]
    finally:
        give_back_given_up(claims)
    return recovered


def _settle_one(rt: Runtime, run_id: str, token: str, attempt: int) -> bool:
    values = rt.store.fields_of(run_id, ("claim", "state", "owner", "attempt"))
    if (values["claim"] != token or values["owner"] != rt.owner
            or values["attempt"] != str(attempt)
            or values["state"] not in (StateName.RUNNING, StateName.RETRYING,
                                       StateName.CANCELLING)):  # Cancelling: ends Cancelled
        return False  # not applied, or moved on since
    reason = (f"attempt {attempt} never started: its claim was applied while Redis was "
              f"away, and process {rt.owner} had given it up")
    if not recover(rt, rt.store.get(run_id), reason=reason).applied:
        return False
    log.warning("run %s: %s; recovered", run_id, reason)
    return True


def definition_of(rt: Runtime, record: RunRecord) -> Any:
    """The task or flow of a run read back from Redis, for its hooks: a task run's task
    (`registry.resolve` of its key, importing its module), a deployment flow run's flow
    (its deployment's entrypoint); None for a nested flow's placeholder (it has no hooks).

    Raises:
        TaskNotFound: the task's module does not import here.
        LookupError: a flow run called directly in a process that died (its flow is known
            only to that process).
        DeploymentNotFound, ConfigurationError: the deployment's flow does not load.
    """
    if record.kind == "task":
        if record.task_key.startswith(PLACEHOLDER_KEYS):
            return None
        return resolve(record.task_key)
    if record.deployment_id:
        return deployment_flow(rt, record.deployment_id)
    raise LookupError("its flow was called in the process that died, so it is known only "
                      "there (a deployment's flow run is found through its deployment)")


def resend(rt: Runtime, record: RunRecord) -> None:
    """Send a run's message again (it was lost): a duplicate is dropped at claim time."""
    send_next(rt, [record])


def set_aside_missing(rt: Runtime, run_id: str, attempt: int) -> None:
    """The message being executed (`current_delivery()`) names a run with no record: set it
    aside in the dead-letter list (a chunk's message: this run's part of it), so that it can
    be inspected and requeued once the record exists. Outside a worker there is no message
    to keep: only a warning."""
    delivery = current_delivery()
    if delivery is None or not delivery.names(run_id):  # e.g. a child flow run in process
        log.warning("run %s: no record (expired or never created)", run_id)
        return
    entry = DeadLetter.new(
        f"run {run_id} has no record (expired, never created, or sent by a stack with "
        f"another key prefix)", queue=delivery.queue,
        raw=_message_of(rt, delivery, run_id, attempt), stage="claim",
        priority=delivery.priority, task=delivery.task, message_id=delivery.message_id)
    try:
        rt.deadletters.add(entry)
    except StoreError as exc:  # not lost: Celery puts the message back on its queue
        raise Reject(f"run {run_id} has no record and Redis refused the dead letter: {exc}",
                     requeue=True) from exc
    log.error("run %s: no record; message %s from queue %s set aside as dead letter %s "
              "(see `tasks-core deadletter inspect %s`)", run_id, delivery.message_id,
              delivery.queue, entry.id, entry.id)


def _message_of(rt: Runtime, delivery: Delivery, run_id: str, attempt: int) -> str:
    """The message for `run_id` as tasks-core sends it (kombu's Redis envelope)."""
    if delivery.task == EXECUTE_CHUNK:
        envelope = Envelope.for_chunk([run_id], queue=delivery.queue, name="chunk")
    else:
        envelope = Envelope.for_run(run_id, attempt, queue=delivery.queue, name=delivery.task,
                                    argsrepr=repr((run_id, attempt)), task=delivery.task,
                                    priority=delivery.priority)
    return redis_push(envelope, rt.store.keys).payload
