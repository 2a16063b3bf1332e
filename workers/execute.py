"""The Celery tasks of a worker: a run id in, the engine out.

A message only says "go": the worker claims the run with an atomic transition into Running
(or Retrying) that expects the message's attempt number, so a duplicate delivery is dropped.
A redelivered message whose run is still Running under a dead process recovers it.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from celery import Celery

from tasks_core.celery_app import EXECUTE_CHUNK, EXECUTE_FLOW, EXECUTE_RUN
from tasks_core.engine.deployed_run import execute_flow_run
from tasks_core.engine.params import call_arguments
from tasks_core.engine.recovery import beat_running, envelope_for, handle_refused_claim
from tasks_core.engine.task_run import (
    AttemptResult,
    RunFrame,
    call_once,
    error_info,
    outcome_transition,
    retry_delay,
    retry_transition,
)
from tasks_core.errors import TaskNotFound
from tasks_core.records import RunOptions
from tasks_core.registry import resolve
from tasks_core.runtime import HOST, Runtime, get_runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Outcome, Transition, utcnow

__all__ = ["execute_chunk", "execute_run", "register_tasks"]

log = logging.getLogger("tasks_core.worker")


def register_tasks(app: Celery) -> None:
    """Register the worker's two Celery tasks on `app`."""

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_RUN, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
    def run(run_id: str, attempt: int = 1) -> None:
        execute_run(run_id, attempt)

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_FLOW, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
    def run_flow(run_id: str, attempt: int = 1) -> None:
        execute_flow_run(run_id, attempt)

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_CHUNK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
    def run_chunk(run_ids: list[str]) -> None:
        execute_chunk(run_ids)


CLAIM_FIELDS = ("id", "name", "task_key", "parameters", "parent_flow_run_id", "queue",
                "priority", "options")
"""What executing a run (and sending its retry) needs from the record."""


def claim(run_id: str, attempt: int, owner: str) -> Transition:
    """The transition that makes this process the one running attempt `attempt`."""
    fields = {"attempt": str(attempt), "owner": owner, "worker": HOST}
    if attempt == 1:
        fields["start_time"] = utcnow().isoformat()
    target = StateName.RUNNING if attempt == 1 else StateName.RETRYING
    return Transition(run_id, target, fields=fields, expected_attempt=attempt - 1,
                      return_fields=CLAIM_FIELDS)


def claim_with_buffer(rt: Runtime, claims: list[Transition]) -> list[Outcome]:
    """Apply claims in one round trip that also carries the reporter's buffered writes.

    Under load the previous run's terminal state is still lingering in the buffer, so it
    and this claim share a round trip instead of costing one each.
    """
    taken = rt.reporter.take()
    try:
        with rt.client.pipeline(transaction=False) as pipe:
            rt.reporter.queue_batch(pipe, taken)
            for change in claims:
                rt.store.queue_transition(pipe, change)
            replies = pipe.execute(raise_on_error=False)
    except BaseException:
        rt.reporter.give_back(taken)
        raise
    rt.reporter.settle(taken, replies[:len(taken)])
    return [rt.store.parse_outcome(reply) for reply in replies[len(taken):]]


def execute_run(run_id: str, attempt: int = 1) -> None:
    """Claim and execute one attempt of one run."""
    rt = get_runtime()
    outcome = claim_with_buffer(rt, [claim(run_id, attempt, rt.owner)])[0]
    if outcome.applied:
        assert outcome.record is not None
        execute_claimed(rt, outcome.record, attempt)
    else:
        handle_refused_claim(rt, run_id, attempt, outcome)


def execute_chunk(run_ids: list[str]) -> None:
    """Claim a chunk of first attempts in one round trip, then execute them in order."""
    rt = get_runtime()
    outcomes = claim_with_buffer(rt, [claim(run_id, 1, rt.owner) for run_id in run_ids])
    for run_id, outcome in zip(run_ids, outcomes, strict=True):
        if outcome.applied:
            assert outcome.record is not None
            execute_claimed(rt, outcome.record, 1)
        else:
            handle_refused_claim(rt, run_id, 1, outcome)


def execute_claimed(rt: Runtime, fields: dict[str, str], attempt: int) -> None:
    """Execute a claimed run and report how it ended (buffered, terminal states urgent)."""
    run_id = fields["id"]
    try:
        task = resolve(fields.get("task_key", ""))
    except TaskNotFound as exc:
        rt.reporter.transition(Transition(run_id, StateName.FAILED, message=str(exc),
                                          fields={"error": error_info(exc).model_dump_json()}),
                               urgent=True)
        return
    args, kwargs = call_arguments(task.signature, json.loads(fields.get("parameters") or "{}"))
    frame = RunFrame(run_id, "task", fields.get("parent_flow_run_id") or None)
    result = call_once(task, frame, args, kwargs, store=True)
    delay = None if result.ok else retry_delay(task, attempt, result)
    if delay is None:
        rt.reporter.transition(outcome_transition(run_id, attempt, result), urgent=True)
    else:
        send_retry(rt, fields, attempt, result, delay)


def send_retry(rt: Runtime, fields: dict[str, str], attempt: int, result: AttemptResult,
               delay: float) -> None:
    """AwaitingRetry, and the next attempt's message.

    A delayed retry waits in beat's durable due set when a beat is running (it survives
    restarts of every process); without a beat it travels as a Celery ETA message, so a
    worker alone still retries. The message is pushed with the transition when direct.
    """
    change = retry_transition(fields["id"], result, delay)
    change.expected_attempt = attempt
    when = datetime.fromisoformat(change.fields["scheduled_time"])
    if delay > 0 and beat_running(rt):
        change.due = when
        rt.reporter.transition(change, urgent=True)
        return
    envelope = envelope_for(
        fields["id"], attempt + 1, queue=fields["queue"], name=fields["name"],
        parameters=fields["parameters"], priority=int(fields["priority"] or 0),
        options=RunOptions.model_validate_json(fields["options"] or "{}"),
        eta=when if delay > 0 else None)
    change.push = rt.dispatcher.push_for(envelope)
    if change.push is not None:
        rt.reporter.transition(change, urgent=True)
        return
    outcome: Any = rt.store.transition(change)  # record first, then the message
    if outcome.applied:
        rt.dispatcher.publish(envelope)
