"""How a run's message reaches its queue: the two rules, each in one function.

- Push or publish (`send_new`, `send_with`): when the broker is the ledger's Redis, the
  message is pushed by the same Lua call that writes the record (one round trip; they
  cannot drift apart). With another broker the record is written first and the message is
  then published through Celery, only if the write applied.
- Due set or ETA (`send_attempt_at`): an attempt due later waits in beat's durable due set
  while a beat runs (it survives restarts of every process); without a beat it travels as a
  Celery ETA message, so a worker alone still retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tasks_core.celery_app import EXECUTE_FLOW, EXECUTE_RUN
from tasks_core.dispatch import Envelope, hard_time_limit
from tasks_core.records import RunOptions
from tasks_core.runtime import Runtime
from tasks_core.settings import get_settings
from tasks_core.store.locks import BEAT_LOCK
from tasks_core.store.runs import Outcome, Transition

__all__ = [
    "beat_running",
    "prepare_attempt_at",
    "run_envelope",
    "send_new",
    "send_next",
    "send_with",
]


def run_envelope(run: Any, attempt: int, eta: datetime | None = None) -> Envelope:
    """The message that starts attempt `attempt` of `run` (a RunRecord or a ClaimedRun:
    id, kind, name, queue, priority, options, argsrepr)."""
    options: RunOptions = run.options
    return Envelope.for_run(
        run.id, attempt, queue=run.queue or get_settings().default_pool, name=run.name,
        argsrepr=run.argsrepr,
        task=EXECUTE_FLOW if run.kind == "flow" else EXECUTE_RUN, priority=run.priority,
        eta=eta, time_limit=hard_time_limit(options.timeout_seconds))


def send_new(rt: Runtime, run: Any, envelope: Envelope, *,
             pipe: Any = None) -> Envelope | None:
    """Create `run` (a RunRecord) and send `envelope`: in one Lua call when direct, else
    the record first and then the message. With `pipe` the create is only queued on it:
    the returned envelope (another broker) must be published after `pipe` executes."""
    push = rt.dispatcher.push_for(envelope)
    rt.store.create(run, push, pipe=pipe)
    if push is not None:
        return None
    if pipe is not None:
        return envelope
    rt.dispatcher.publish(envelope)
    return None


def send_with(rt: Runtime, change: Transition, envelope: Envelope) -> Outcome:
    """Apply `change` and send `envelope`: together when direct, else the transition first
    and the message only if it applied."""
    change.push = rt.dispatcher.push_for(envelope)
    outcome = rt.store.transition(change)
    if outcome.applied and change.push is None:
        rt.dispatcher.publish(envelope)
    return outcome


def beat_running(rt: Runtime) -> bool:
    """Whether a beat holds its leader lock, so runs left in the due set will be sent."""
    return rt.locks.held(BEAT_LOCK)


def prepare_attempt_at(rt: Runtime, change: Transition, run: Any, attempt: int,
                       when: datetime, delay: float) -> Envelope | None:
    """Make `change` (AwaitingRetry) also start attempt `attempt` of `run` at `when`: from
    beat's due set when `delay` > 0 and a beat runs, else by a message (an ETA message when
    `delay` > 0) pushed with it. Returns the envelope to publish once `change` applied
    (another broker), else None."""
    if delay > 0 and beat_running(rt):
        change.due = when
        return None
    envelope = run_envelope(run, attempt, when if delay > 0 else None)
    change.push = rt.dispatcher.push_for(envelope)
    return envelope if change.push is None else None


def send_next(rt: Runtime, runs: Sequence[Any]) -> None:
    """Send the message of each run's next attempt again (it was lost, or is due now), in
    one round trip when direct; a duplicate is dropped when a worker claims it."""
    envelopes = [run_envelope(run, run.attempt + 1) for run in runs]
    pushes = [push for e in envelopes if (push := rt.dispatcher.push_for(e)) is not None]
    rt.queues.push(pushes)
    if not rt.dispatcher.direct:
        for envelope in envelopes:
            rt.dispatcher.publish(envelope)
