"""How a run's message reaches its queue: the two rules, each in one function.

- Push or publish (`outgoing`): when the broker is the ledger's Redis, the message is
  pushed by the same Lua call that writes the record or its transition (one round trip;
  they cannot drift apart). With another broker the write comes first and the message is
  then published through Celery, only if the write applied (`Outgoing.after`). Every
  message goes this way: `send_new` (a new run), `prepare_attempt_at` (a retry),
  `send_next` (a lost or due message), `.map()`'s chunks.
- Due set or ETA (`prepare_attempt_at`): an attempt due later waits in beat's durable due
  set while a beat runs (it survives restarts of every process); without a beat it travels
  as a Celery ETA message, so a worker alone still retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tasks_core.celery_app import EXECUTE_FLOW, EXECUTE_RUN
from tasks_core.dispatch import Envelope
from tasks_core.engine.context import current_run
from tasks_core.engine.limits import hard_limit
from tasks_core.process_runtime import Runtime
from tasks_core.records import RunOptions
from tasks_core.settings import get_settings
from tasks_core.store.locks import BEAT_LOCK
from tasks_core.store.runs import BrokerPush, Transition

__all__ = [
    "Outgoing",
    "beat_running",
    "outgoing",
    "prepare_attempt_at",
    "run_envelope",
    "send_new",
    "send_next",
]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message routed by the push-or-publish rule.

    Attributes:
        envelope: the message.
        push: what to push with the write (the broker is the ledger's Redis), else None.
    """

    envelope: Envelope
    push: BrokerPush | None

    def after(self, rt: Runtime, applied: bool) -> None:
        """Once the write is done: publish through Celery when the message was not pushed
        with it, and only if the write applied."""
        if self.push is None and applied:
            rt.dispatcher.publish(self.envelope)


def outgoing(rt: Runtime, envelope: Envelope) -> Outgoing:
    """`envelope` routed: pushed with the write when direct, else published after it."""
    return Outgoing(envelope, rt.dispatcher.push_for(envelope))


def run_envelope(run: Any, attempt: int, eta: datetime | None = None) -> Envelope:
    """The message that starts attempt `attempt` of `run` (a RunRecord or a ClaimedRun:
    id, kind, name, queue, priority, options, argsrepr).

    Its Celery ``root_id`` / ``parent_id``: sent from inside a run, the top of that run's
    tree and that run (as a Celery task sending a task); else the ones the claimed run
    arrived with (a retry), else its parent flow run (a message re-sent by beat).
    """
    options: RunOptions = run.options
    frame = current_run.get()
    if frame is not None:
        root_id, parent_id = frame.root, frame.run_id
    else:
        parent_id = (getattr(run, "celery_parent_id", None) or run.parent_flow_run_id
                     or run.parent_task_run_id)
        root_id = getattr(run, "root_id", None) or parent_id
    return Envelope.for_run(
        run.id, attempt, queue=run.queue or get_settings().default_pool, name=run.name,
        argsrepr=run.argsrepr,
        task=EXECUTE_FLOW if run.kind == "flow" else EXECUTE_RUN, priority=run.priority,
        eta=eta, time_limit=hard_limit(options),
        root_id=root_id, parent_id=parent_id)


def send_new(rt: Runtime, run: Any, envelope: Envelope) -> None:
    """Create `run` (a RunRecord) and send `envelope` by the push-or-publish rule."""
    message = outgoing(rt, envelope)
    rt.store.create(run, message.push)
    message.after(rt, True)


def beat_running(rt: Runtime) -> bool:
    """Whether a beat holds its leader lock, so runs left in the due set will be sent."""
    return rt.locks.held(BEAT_LOCK)


def prepare_attempt_at(rt: Runtime, change: Transition, run: Any, attempt: int,
                       when: datetime, delay: float) -> Outgoing | None:
    """Make `change` (AwaitingRetry) also start attempt `attempt` of `run` at `when`: from
    beat's due set when `delay` > 0 and a beat runs (None returned), else by a message (an
    ETA message when `delay` > 0) routed with it: call `.after(rt, applied)` once `change`
    is written."""
    if delay > 0 and beat_running(rt):
        change.due = when
        return None
    message = outgoing(rt, run_envelope(run, attempt, when if delay > 0 else None))
    change.push = message.push
    return message


def send_next(rt: Runtime, runs: Sequence[Any]) -> None:
    """Send the message of each run's next attempt again (it was lost, or is due now), in
    one round trip when direct; a duplicate is dropped when a worker claims it."""
    messages = [outgoing(rt, run_envelope(run, run.attempt + 1)) for run in runs]
    rt.queues.push([m.push for m in messages if m.push is not None])
    for message in messages:
        message.after(rt, True)
