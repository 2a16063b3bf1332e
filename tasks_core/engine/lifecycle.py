"""The one attempt loop: attempt -> decide -> report -> (wait -> attempt again) -> end.

Every run executes through `run_attempts` (sync) or `run_attempts_async` (awaited): a
direct call of a task or flow, a task run on a worker, a deployment's flow run on a worker.
Both drivers step the same loop (`_Loop`), so it is written once; they differ only in how
they call the body and how they wait.

After each attempt `conclude` decides (`outcome.decide`) and reports:
- the final state, written through the reporter (in process) or synchronously before the
  worker acknowledges the message (`RunHandle.on_worker`), so a body that finished never
  runs again because its end was still buffered when the process died;
- or AwaitingRetry: the process waits and attempts again (`retry_here`), or the next
  attempt goes back to the queue (worker task runs: due set or ETA message);
- and, for a nested run, the same end on the parent's placeholder (`mirror`);
- then, for a final state that applied, the run's state change hooks (`hooks.fire_final`;
  a flow's `on_running` hooks are called as each attempt starts), and for a retry a
  ``base=`` class's ``on_retry`` (`task_handlers`).

An interruption that is not an Exception (KeyboardInterrupt, SystemExit, a cancelled
task) is an attempt that crashed: concluded like a crash found by recovery, then raised on.
An error while concluding (a bug, Redis refusing a write) still ends the run: the outcome is
written stripped (`Transition.stripped`) with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, NamedTuple

from tasks_core.concurrency.tags import attempt_with_tag_slots, attempt_with_tag_slots_async
from tasks_core.engine.celery_view import ShownRun, tell
from tasks_core.engine.context import RunFrame
from tasks_core.engine.hooks import RunHooks, fire_final, fire_running
from tasks_core.engine.outcome import Complete, Decision, Ended, Fail, Retry, decide, error_info
from tasks_core.engine.results import NOT_PERSISTED
from tasks_core.engine.sending import Outgoing, prepare_attempt_at
from tasks_core.engine.task_handlers import fire_retry, retry_condition
from tasks_core.errors import FlowSuspended
from tasks_core.process_runtime import Runtime
from tasks_core.records import RunOptions
from tasks_core.states import StateName
from tasks_core.store.runs import Outcome, Transition, utcnow

__all__ = ["Concluded", "RunHandle", "cancelled_instead", "conclude", "failsafe", "mirror",
           "outcome_transition",
           "run_attempts", "run_attempts_async", "shown_concluded"]

log = logging.getLogger("tasks_core.engine")


@dataclass(slots=True)
class RunHandle:
    """A run executing (or recovered) in this process: what concluding its attempts needs.

    Attributes:
        run_id, kind: the run (``"task"`` or ``"flow"``).
        options: how it retries and times out (carried by the run since its creation).
        frame: the context its body runs in (links nested runs, routes logs and prints).
        placeholder_id: the parent's placeholder task run, whose end mirrors this run's.
        retry_here: retries wait in this process; False: the next attempt is sent to the
            run's queue (`requeue` is the run to send: a RunRecord or ClaimedRun).
        on_worker: outcomes are written synchronously (before the message is acked),
            and each expects the attempt it ends, so a stale process cannot overwrite a
            recovered run's newer attempt.
        deferred: see the field.
        may_retry: False: any failure is final (a crash in a process that is going away).
        hooks: its task's or flow's state change hooks (`engine.hooks`), None: none.
    """

    run_id: str
    kind: str
    options: RunOptions
    frame: RunFrame
    placeholder_id: str | None = None
    retry_here: bool = True
    on_worker: bool = False
    requeue: Any = None
    may_retry: bool = True
    deferred: list[Transition] | None = None
    """On a worker running a chunk of runs from one message: outcomes are collected here
    and written with the next run's claim (still before the chunk's message is acked)."""
    shown: ShownRun | None = None
    """Shown to Celery as a task of its own (`celery_view`): its attempts and end are told
    to the worker's watcher. None: Celery sees it through its own message, or not at all."""
    hooks: RunHooks | None = None
    tags: tuple[str, ...] = ()
    """A task run's tags: each attempt first takes a slot of their tag concurrency limits
    (`tasks_core.concurrency.tags`; none: no wait, no Redis call)."""
    started: str | None = None
    """When its first attempt really started (ISO 8601), for a run claimed before that (a
    `.map()` chunk's window, `engine.claim_ahead`): its outcome writes it as start_time."""


def outcome_transition(rt: Runtime, handle: RunHandle, attempt: int, decision: Decision,
                       now: datetime) -> Transition:
    """The transition that records `decision` for attempt `attempt`."""
    change = Transition(handle.run_id, StateName.COMPLETED, kind=handle.kind, at=now,
                        outcome=True,
                        expected_attempt=attempt if handle.on_worker else None)
    if isinstance(decision, Complete):
        change.fields = {"error": ""}  # an earlier attempt's error is not this run's end
        if decision.result_json is not None and handle.options.ignore_result:
            # Celery's ignore_result: handed on to a chain's next step, stored nowhere
            change.result_json, change.keep_result = decision.result_json, False
            change.message = decision.note[:500]
        elif decision.result_json is not None:
            change.result_json = (decision.result_json if handle.options.persist_result
                                  else NOT_PERSISTED)  # persist_result=False
            change.fields["result_size"] = str(len(decision.result_json))  # store: result_ref
        elif decision.note:
            change.message = decision.note[:500]
    elif isinstance(decision, Fail):
        change.target = decision.state
        change.message = decision.message
        change.fields = {"error": decision.error.model_dump_json()}
    else:
        change.target = StateName.AWAITING_RETRY
        change.message = decision.message
        change.fields = {"scheduled_time": decision.when.isoformat(),
                         "error": decision.error.model_dump_json()}
    if handle.started is not None:
        change.fields["start_time"] = handle.started
    return change


def mirror(change: Transition, placeholder_id: str) -> Transition:
    """The end of a nested run, for the parent's placeholder: same state, message and
    error, no result (the child run holds it)."""
    fields = {k: v for k, v in change.fields.items() if k == "error"}
    return Transition(placeholder_id, change.target, message=change.message, fields=fields,
                      at=change.at, outcome=True)


def _write(rt: Runtime, handle: RunHandle, changes: list[Transition],
           publish: Outgoing | None = None,
           cancelled: list[Transition] | None = None) -> bool:
    """Write an attempt's outcome: buffered in process; on a worker now, with what is
    buffered, before the message is acked (the reporter takes over if Redis stays away).
    `publish` is the next attempt's message, published once the first change applied.
    Whether the first change applied (True when it was buffered). A run being cancelled
    ends Cancelled instead (`_end_cancelled`); when that was written here and now, its
    change is appended to `cancelled` (its hooks are the caller's to call)."""
    def after(outcome: Outcome, now: bool = False) -> None:
        if publish is not None:
            publish.after(rt, outcome.applied)
        if not outcome.applied and outcome.state == StateName.CANCELLING:
            ended = _end_cancelled(rt, handle, changes[0], now=now)
            if ended is not None and cancelled is not None:
                cancelled.append(ended)

    if handle.deferred is not None and (publish is None or publish.push is not None):
        handle.deferred.extend(changes)
        return True
    if handle.on_worker:
        try:
            outcome = rt.reporter.apply_now(changes)[0]
            after(outcome, now=True)
            return outcome.applied
        except ConnectionError:
            log.warning("run %s: outcome not written yet (Redis away); the reporter retries",
                        handle.run_id)
    rt.reporter.transition(changes[0], urgent=True, on_outcome=after)
    for change in changes[1:]:
        rt.reporter.transition(change, urgent=True)
    return True


def cancelled_instead(refused: Transition) -> Transition:
    """The change that ends a run Cancelled when its attempt's outcome `refused` was
    refused because the run was being cancelled (Cancelling leads only to Cancelled)."""
    return Transition(refused.run_id, StateName.CANCELLED, kind=refused.kind, outcome=True,
                      message=f"cancelled; the attempt ended {StateName(refused.target).value}")


def _end_cancelled(rt: Runtime, handle: RunHandle, refused: Transition, *,
                   now: bool = False) -> Transition | None:
    """The run was asked to stop while its attempt ran: however the attempt ended, the run
    ends Cancelled (Cancelling leads only there; a placeholder mirrors it). With `now` (on
    a worker or in recovery, not in the reporter's callback) it is written at once: the
    Cancelled change when it applied here, else None."""
    change = cancelled_instead(refused)
    changes = [change]
    if handle.placeholder_id:
        changes.append(mirror(change, handle.placeholder_id))
    if now:
        try:
            return change if rt.reporter.apply_now(changes)[0].applied else None
        except ConnectionError:
            log.warning("run %s: Cancelled not written yet (Redis away); the reporter "
                        "retries", handle.run_id)
    for each in changes:
        rt.reporter.transition(each, urgent=True)
    return None


class Concluded(NamedTuple):
    """What `conclude` decided, and whether its write applied (False: another process
    had already moved the run on, e.g. a racing recoverer, or the run was being cancelled);
    `cancelled`: the run was being cancelled and this call ended it Cancelled instead."""

    decision: Decision
    applied: bool
    cancelled: bool = False


def conclude(rt: Runtime, handle: RunHandle, attempt: int, ended: Ended,
             now: datetime | None = None) -> Concluded:
    """Decide what follows attempt `attempt` and record it; a final state that applied
    then calls the run's state change hooks (`hooks.fire_final`)."""
    now = now or utcnow()
    if isinstance(ended.exc, FlowSuspended):  # tasks_core.suspending: the run stays Paused
        return Concluded(Complete(None, note="suspended"), applied=False)
    decision = decide(handle.options, attempt, ended, now, may_retry=handle.may_retry,
                      condition=retry_condition(handle, attempt))
    change = outcome_transition(rt, handle, attempt, decision, now)
    changes = [change]
    publish = None
    if isinstance(decision, Retry):
        if not handle.retry_here:
            change.expected_attempt = attempt
            publish = prepare_attempt_at(rt, change, handle.requeue, attempt + 1,
                                         decision.when, decision.delay)
    elif handle.placeholder_id:
        changes.append(mirror(change, handle.placeholder_id))
    cancelled: list[Transition] = []
    applied = _write(rt, handle, changes, publish, cancelled)
    shown_concluded(handle, decision, ended.elapsed)
    if applied and handle.hooks is not None and isinstance(decision, Retry):
        fire_retry(handle, decision, attempt)  # a base= class's on_retry
    elif applied and handle.hooks is not None:
        fire_final(rt, handle, change, decision, attempt)
    elif cancelled and handle.hooks is not None:  # it was being cancelled: it ended so
        fire_final(rt, handle, cancelled[0], None, attempt)
    return Concluded(decision, applied, bool(cancelled))


def shown_concluded(handle: RunHandle, decision: Decision, runtime: float = 0.0) -> None:
    """Tell the worker's watcher how an attempt of a shown run ended (`celery_view`)."""
    if handle.shown is not None:
        tell(handle.shown, lambda w, run: w.concluded(run, decision, runtime))


class _Loop:
    """The attempt loop, written once; the drivers below only call the body or wait.

    While `decision` is None: if `pause` is None call the body and pass how it ended to
    `ended()`, else wait `pause` seconds and call `waited()`; each step inside `with loop:`
    (an interruption becomes a recorded crash).
    """

    def __init__(self, rt: Runtime, handle: RunHandle, first: int) -> None:
        self.rt = rt
        self.handle = handle
        self.number = first
        self.pause: float | None = None
        self.decision: Decision | None = None

    def ended(self, how: Ended) -> None:
        """Conclude the attempt; either the loop ends, or it pauses before the next one."""
        decision = conclude(self.rt, self.handle, self.number, how).decision
        if isinstance(decision, Retry) and self.handle.retry_here:
            self.pause = decision.delay
        else:
            self.decision = decision

    def starting(self) -> None:
        """An attempt starts (the run is Running or Retrying): a flow's on_running hooks."""
        if self.handle.hooks is not None:
            fire_running(self.handle, self.number)

    def waited(self) -> None:
        """The pause is over: the next attempt starts (Retrying)."""
        self.pause = None
        self.number += 1
        self.rt.reporter.transition(Transition(
            self.handle.run_id, StateName.RETRYING, kind=self.handle.kind,
            fields={"attempt": str(self.number)}))
        if self.handle.shown is not None:
            number = self.number
            tell(self.handle.shown, lambda w, run: w.started(run, number))

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]:
        """An interruption that is not an Exception (KeyboardInterrupt, SystemExit, a
        cancelled task) ends the attempt as a crash, recorded before it goes on."""
        if exc is None or isinstance(exc, Exception):
            return False
        handle = replace(self.handle, retry_here=False, may_retry=self.handle.on_worker,
                         deferred=None)
        try:
            conclude(self.rt, handle, self.number, Ended.failure(exc, crashed=True))
            self.rt.reporter.flush(timeout=5)
        except Exception:
            log.exception("run %s: could not record the interruption", handle.run_id)
        return False


class failsafe:
    """An error of the engine itself while executing or recording a run (a bug, a store
    reply it did not expect) must not leave the run live: it ends Failed naming the error
    (a run already ended refuses the write). With `reraise` the error then goes on, else
    it is logged and swallowed (a worker carries on with its next message), and
    `decision` says how the run was ended.

    A class, not a generator: it wraps every run, and this is the cheaper context manager.
    """

    __slots__ = ("attempt", "decision", "handle", "reraise", "rt")

    def __init__(self, rt: Runtime, handle: RunHandle, attempt: int, *, reraise: bool) -> None:
        self.rt = rt
        self.handle = handle
        self.attempt = attempt
        self.reraise = reraise
        self.decision: Decision | None = None

    def __enter__(self) -> failsafe:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> bool:
        if not isinstance(exc, Exception):
            return False
        handle = self.handle
        log.exception("run %s: engine error; ending the run Failed", handle.run_id,
                      exc_info=exc)
        final = replace(handle, may_retry=False)
        try:
            self.decision = conclude(self.rt, final, self.attempt,
                                     Ended.failure(exc, retryable=False)).decision
        except Exception as again:
            log.exception("run %s: could not record the engine error", handle.run_id)
            last = Transition(handle.run_id, StateName.FAILED, kind=handle.kind,
                              outcome=True).stripped(f"engine error: {type(exc).__name__}; "
                                                     f"then {type(again).__name__}")
            self.rt.reporter.transition(last, urgent=True)
            self.decision = Fail(StateName.FAILED, error_info(exc), exc)
        return not self.reraise


def run_attempts(rt: Runtime, handle: RunHandle, body: Callable[[], Ended], *,
                 first: int = 1) -> Decision:
    """Attempt the run here until the lifecycle ends it (sync driver); its last decision."""
    loop = _Loop(rt, handle, first)
    while loop.decision is None:
        with loop:  # an interruption is recorded as a crash, then goes on
            if loop.pause is None:
                loop.starting()
                if handle.tags:
                    loop.ended(attempt_with_tag_slots(rt, handle.run_id, handle.tags, body))
                else:
                    loop.ended(body())
            else:
                time.sleep(loop.pause)
                loop.waited()
    return loop.decision


async def run_attempts_async(rt: Runtime, handle: RunHandle,
                             body: Callable[[], Awaitable[Ended]], *,
                             first: int = 1) -> Decision:
    """`run_attempts` for an async body, on the caller's event loop (async driver)."""
    loop = _Loop(rt, handle, first)
    while loop.decision is None:
        with loop:
            if loop.pause is None:
                loop.starting()
                if handle.tags:
                    loop.ended(await attempt_with_tag_slots_async(rt, handle.run_id,
                                                                  handle.tags, body))
                else:
                    loop.ended(await body())
            else:
                await asyncio.sleep(loop.pause)
                loop.waited()
    return loop.decision
