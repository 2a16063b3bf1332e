"""The Celery tasks of a worker: a run id in, the engine out.

Each is "claim -> run the attempt -> report": the claim (`engine.claim`) makes this
process the one running the attempt, or is refused (a duplicate is dropped, a run whose
process died is recovered); the attempt runs through the one lifecycle
(`engine.lifecycle`), which writes its outcome before the message is acked and sends a
retry back to the queue.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from celery.exceptions import Ignore

from tasks_core.celery_app import EXECUTE_CHUNK, EXECUTE_FLOW, EXECUTE_RUN
from tasks_core.child_runner import run_children_with
from tasks_core.engine.attempt import call_attempt
from tasks_core.engine.by_name import adopt_sent_by_name
from tasks_core.engine.caching import cached_outcome, keep_result
from tasks_core.engine.celery_view import show
from tasks_core.engine.claim import ClaimedRun, apply_claim, apply_claims, claim
from tasks_core.engine.claim_ahead import next_window
from tasks_core.engine.context import RunFrame
from tasks_core.engine.deployed_run import execute_flow_run
from tasks_core.engine.expiry import end_expired
from tasks_core.engine.hooks import RunHooks
from tasks_core.engine.lifecycle import (
    RunHandle,
    cancelled_instead,
    conclude,
    failsafe,
    run_attempts,
)
from tasks_core.engine.outcome import (
    Complete,
    Decision,
    Ended,
    Fail,
    Retry,
    cancelled_before_start,
)
from tasks_core.engine.recovery import handle_refused_claim
from tasks_core.engine.request import RequestInfo
from tasks_core.engine.task_run import task_body
from tasks_core.errors import ParameterError, TaskNotFound
from tasks_core.process_runtime import HOST, Runtime, get_runtime
from tasks_core.records import ErrorInfo
from tasks_core.registry import resolve
from tasks_core.states import StateName
from tasks_core.store.connection import StoreError
from tasks_core.store.runs import Outcome, Transition, utcnow
from workers.celery_view import task_result, tree_of
from workers.rate_gate import rate_deferred
from workers.task_signals import RunSignals, expired_revoked
from workers.task_signals import installed as signals_installed

__all__ = ["execute_chunk", "execute_run", "register_tasks"]

log = logging.getLogger("tasks_core.worker")


def register_tasks(app: Celery) -> None:
    """Register the worker's three Celery tasks on `app`, and let a flow waiting on a
    child flow run of this worker's pools run it here (see `run_deployment`).

    Each task returns or raises what makes Celery's view agree with the run
    (`celery_view.task_result`).
    """
    run_children_with(lambda run_id: execute_flow_run(run_id, 1, gate=False))

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_RUN, bind=True, ignore_result=True, acks_late=True,
        reject_on_worker_lost=True)
    def run(self: Task, run_id: str, attempt: int = 1) -> Any:
        if rate_deferred(get_runtime(), self.request, run_id, attempt):
            raise Ignore()  # sent back for its rate limit slot (workers/rate_gate.py)
        return task_result(execute_run(run_id, attempt, tree=tree_of(self.request)), run_id,
                           self)

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_FLOW, bind=True, ignore_result=True, acks_late=True,
        reject_on_worker_lost=True)
    def run_flow(self: Task, run_id: str, attempt: int = 1) -> Any:
        return task_result(execute_flow_run(run_id, attempt, tree=tree_of(self.request)),
                           run_id, self)

    @app.task(  # type: ignore[untyped-decorator]
        name=EXECUTE_CHUNK, bind=True, ignore_result=True, acks_late=True,
        reject_on_worker_lost=True)
    def run_chunk(self: Task, run_ids: list[str]) -> str:
        return chunk_summary(execute_chunk(run_ids, tree=tree_of(self.request),
                                           message_id=self.request.id))


Tree = tuple[str | None, str | None]


def execute_run(run_id: str, attempt: int = 1, *, tree: Tree = (None, None)) -> Decision | None:
    """Claim and execute one attempt of one run; how it ended (None: a duplicate, dropped).
    `tree`: Celery's ``root_id`` and ``parent_id`` of its message."""
    rt = get_runtime()
    outcome = apply_claim(rt, claim(run_id, attempt, rt.owner))
    if not outcome.applied:
        if outcome.expired:
            ended = end_expired(rt, run_id, attempt)
            if ended is not None:
                expired_revoked(rt.store.field(run_id, "name"), run_id)
            return ended
        recovered = handle_refused_claim(rt, run_id, attempt, outcome)
        if recovered is None and outcome.state == StateName.CANCELLED:
            return cancelled_before_start(run_id)
        return recovered
    assert outcome.record is not None
    run = ClaimedRun.from_fields(outcome.record, attempt, "task")
    run.root_id, run.celery_parent_id = tree
    return run_claimed_task(rt, run)


def execute_chunk(run_ids: list[str], *, tree: Tree = (None, None),
                  message_id: str | None = None) -> list[Decision]:
    """Execute the first attempts of a chunk of runs (`.map()`), one after another; how
    each that ran here ended.

    Runs are claimed in windows (`engine.claim_ahead`: one at first, up to
    ``map_claim_ahead`` while they are short), each window's outcomes written with the next
    window's claims (one round trip for both) and the last ones before returning: all
    before the message is acked. A crash leaves the runs not claimed yet untouched for the
    redelivered message. An error while handling a run whose claim was refused (a dead
    letter Redis would not take: Celery's Reject to requeue the message) or a claim Redis
    answered with an error is raised once the window's claimed runs have run and their
    outcomes are written, so that none is left claimed and never run (the runs not claimed
    yet stay Pending: a requeued message brings them again, and for a failed one beat's
    sweeper sends them again). Each run is shown to Celery as a task of its own inside the
    chunk's (`message_id`).
    """
    rt = get_runtime()
    most = rt.settings.map_claim_ahead
    outcomes: list[Transition] = []
    decisions: list[Decision] = []
    ran_ids: list[str] = []  # the run of each decision
    cancelled: set[str] = set()  # runs ended Cancelled instead of their outcome
    window, position = 1, 0
    failure: BaseException | None = None
    try:
        while position < len(run_ids) and failure is None:
            ids = run_ids[position:position + window]
            position += len(ids)
            written: list[Outcome] = []
            claims = apply_claims(rt, [claim(run_id, 1, rt.owner) for run_id in ids], outcomes,
                                  before_outcomes=written, raise_errors=False)
            outcomes = cancelled_meanwhile(outcomes, written)
            cancelled.update(change.run_id for change in outcomes)
            ran, began = 0, time.perf_counter()
            for index, (run_id, claimed) in enumerate(zip(ids, claims, strict=True)):
                if not claimed.applied:
                    problem = _refused(rt, run_id, claimed)  # each handled, the first raised
                    failure = failure or problem
                    continue
                assert claimed.record is not None
                run = ClaimedRun.from_fields(claimed.record, 1, "task")
                run.root_id, run.celery_parent_id = tree
                # claimed ahead (not the window's first): its record says when it started
                started = utcnow().isoformat() if index else None
                decisions.append(run_claimed_task(rt, run, deferred=outcomes,
                                                  shown_in=message_id, started=started))
                ran_ids.append(run_id)
                ran += 1
            window = next_window(window, ran, time.perf_counter() - began, most)
        while outcomes:  # the last ones, and the Cancelled ends they may call for
            outcomes = cancelled_meanwhile(outcomes, rt.reporter.apply_now(outcomes))
            cancelled.update(change.run_id for change in outcomes)
    finally:  # Redis went away mid-chunk: the reporter writes them once it is back
        for change in outcomes:
            rt.reporter.transition(change, urgent=True, on_outcome=_cancelled_after(rt, change))
    if failure is not None:
        raise failure
    if cancelled:  # so the chunk's Celery result counts them as they ended
        return [_CANCELLED_INSTEAD if run_id in cancelled else decision
                for run_id, decision in zip(ran_ids, decisions, strict=True)]
    return decisions


_CANCELLED_INSTEAD = Fail(StateName.CANCELLED, ErrorInfo(
    type="Cancelled", message="cancelled while its attempt ran; the attempt's outcome was "
    "not kept"))
"""The decision shown for a chunk run whose outcome was refused because the run was being
cancelled meanwhile, and which ended Cancelled instead (`cancelled_meanwhile`)."""


def _refused(rt: Runtime, run_id: str, claimed: Outcome) -> BaseException | None:
    """Handle a chunk run whose claim was refused (`handle_refused_claim`, or the end of an
    expired run); what it raised, for the caller to raise once its window is done."""
    if claimed.error:
        return StoreError(f"run {run_id}: Redis answered its claim with an error: "
                          f"{claimed.error}")
    try:
        if claimed.expired:
            end_expired(rt, run_id, 1)
        else:
            handle_refused_claim(rt, run_id, 1, claimed)
    except Exception as exc:
        return exc
    return None


def _cancelled_after(rt: Runtime, change: Transition) -> Callable[[Outcome], None]:
    """The reporter's callback for a deferred change it writes later: the Cancelled end,
    when the run was being cancelled meanwhile (`cancelled_meanwhile`)."""
    def after(outcome: Outcome) -> None:
        for end in cancelled_meanwhile([change], [outcome]):
            rt.reporter.transition(end, urgent=True)
    return after


def cancelled_meanwhile(changes: list[Transition], outcomes: list[Outcome]) -> list[Transition]:
    """The Cancelled ends due for attempts' outcomes written late (`changes`, deferred to the
    next round trip) that were refused because their run was being cancelled meanwhile (a
    cancel request its body did not see: Cancelling leads only to Cancelled)."""
    return [cancelled_instead(change) for change, outcome in zip(changes, outcomes, strict=True)
            if change.outcome and not outcome.applied and outcome.state == StateName.CANCELLING]


def chunk_summary(decisions: list[Decision]) -> str:
    """What a chunk's Celery task returns: how many of its runs ended how."""
    counts = Counter("completed" if isinstance(d, Complete) else
                     "retrying" if isinstance(d, Retry) else d.state.lower() for d in decisions)
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "no runs"


def request_info(run: ClaimedRun) -> RequestInfo:
    """What a bound task's ``self.request`` says of a claimed run (`engine.request`)."""
    parent = run.celery_parent_id or run.parent_flow_run_id
    return RequestInfo(run.id, run.name, run.queue, run.priority, parent_id=parent,
                       root_id=run.root_id or parent, hostname=HOST,
                       first_attempt=run.attempt, time_limit=run.options.time_limit,
                       soft_time_limit=run.options.soft_time_limit)


def run_claimed_task(rt: Runtime, run: ClaimedRun, *, deferred: list[Transition] | None = None,
                     shown_in: str | None = None, started: str | None = None) -> Decision:
    """Run one claimed attempt of a task run and report how it ended (now, or into
    `deferred` for the caller to write before the message is acked: not for a task with
    hooks, which run after its end is written); how it ended. `shown_in`: the Celery task
    it executes inside, when it is not its own message's; `started`: when it started, for
    a run claimed before that (`RunHandle.started`)."""
    frame = RunFrame(run.id, "task", run.parent_flow_run_id, run.options.log_prints,
                     run.root_id)
    handle = RunHandle(run.id, "task", run.options, frame, retry_here=False, on_worker=True,
                       requeue=run, deferred=deferred, started=started)
    if shown_in is not None:
        show(handle, run.name, run.argsrepr, shown_in)
    decision: Decision | None = None
    run_signals: RunSignals | None = None
    with failsafe(rt, handle, run.attempt, reraise=False) as guard:
        try:
            task = resolve(run.task_key)
            adopt_sent_by_name(task, run)  # send_task("name"): bind its args, its options
            handle.options = run.options
            handle.hooks = RunHooks.of_claimed(task, run)
            handle.tags = tuple(task.tags)
            if handle.hooks is not None:
                handle.deferred = None
            args, kwargs = task.parameters.decode(run.parameters)
        except (TaskNotFound, ParameterError) as exc:
            return conclude(rt, handle, run.attempt, Ended.failure(exc, retryable=False)).decision
        if shown_in is None and signals_installed():  # the user's task as sender
            run_signals = RunSignals(task, run.id, run.attempt, args, kwargs)
            run_signals.prerun()
        decision = cached_outcome(rt, handle, run.attempt)
        if decision is None:
            body = task_body(task, args, kwargs, frame, request_info(run), run.options,
                             store_result=True, result_max_bytes=rt.settings.result_max_bytes)
            decision = run_attempts(rt, handle, lambda: call_attempt(body), first=run.attempt)
            keep_result(rt, handle, decision)
    decision = decision or guard.decision
    assert decision is not None  # an engine error is concluded by the failsafe
    if run_signals is not None:
        run_signals.ended(decision)
    return decision
