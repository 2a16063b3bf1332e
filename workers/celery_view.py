"""Celery's view of runs agrees with the ledger: task states, task events and signals.

Two halves:

- A run executing from its own message is the Celery task carrying it: `task_result` is
  what that task returns or raises, so Celery's state, events and signals say how the run
  ended. Completed: the task returns the run's value (``task-succeeded``, ``task_success``).
  Failed, TimedOut or Crashed: it raises the run's exception (``task-failed`` with the
  exception and traceback, ``task_failure``, FAILURE in Flower; Celery acks it, as with
  ``task_acks_late`` a failed task is acked). Cancelled (stopped, or cancelled before it
  started): it sends what Celery sends for a revoked task (``task-revoked``, REVOKED in
  Flower, ``task_revoked``) and raises `Ignore` (acked, and no failure). A retry: it raises
  Celery's `Retry`
  (``task-retried``, ``task_retry``, RETRY); the next attempt's message has the same task
  id, so Flower shows one task. A duplicate delivery raises `Ignore` (no event: the
  delivery that runs it reports it).
- A run executing inside another run's task (`tasks_core.engine.celery_view`): the
  `EventWatcher` sends the events and signals its own message would have caused.

Events go out only while the worker sends task events (``-E``, `task_events`, or Flower's
``enable_events``); the main process mirrors that switch into memory its pool children
share (`EventSwitch`). Signals are sent always, as Celery does.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import traceback
from typing import Any

from celery import Celery, signals
from celery.app.task import Context
from celery.exceptions import Ignore, Retry
from celery.utils.saferepr import saferepr
from celery.utils.serialization import get_pickleable_exception

from tasks_core.celery_app import EXECUTE_RUN
from tasks_core.engine.celery_view import ShownRun, watch_runs, watcher
from tasks_core.engine.outcome import Complete, Decision, Fail
from tasks_core.errors import CrashedRun, FailedRun
from tasks_core.registry import known_as
from tasks_core.states import StateName
from workers.task_signals import request_on

__all__ = ["EventSwitch", "EventWatcher", "sends_task_events", "show_runs_to_celery",
           "task_result", "tree_of"]

log = logging.getLogger("tasks_core.worker")


def task_result(decision: Decision | None, run_id: str, task: Any = None) -> Any:
    """What the Celery task `task` carrying `run_id` returns (a completed run's value) or
    raises (see the module doc); `decision` None: a duplicate delivery (`Ignore`)."""
    if decision is None:
        raise Ignore()
    if isinstance(decision, Complete):
        return decision.value
    if isinstance(decision, Fail):
        if decision.state == StateName.CANCELLED:
            _revoked(task)
            raise Ignore()  # acked; not a failure: no task-failed, no task_failure
        if decision.exc is not None:
            raise decision.exc
        error = CrashedRun if decision.state == StateName.CRASHED else FailedRun
        raise error(f"run {run_id} ended {decision.state}: {decision.message}", run_id=run_id)
    cause = decision.exc or FailedRun(decision.message, run_id=run_id)
    # the exception crosses the prefork pool's pipe to the worker process, never a message
    raise Retry(decision.message, exc=get_pickleable_exception(cause), when=decision.when)


def _revoked(task: Any) -> None:
    """What Celery sends when it revokes a running task (``task-revoked``, while task events
    are on, and ``task_revoked``), for the run `task` carries: cancelled, it stopped."""
    if task is None:
        return
    request = task.request
    run_watcher = watcher()
    if isinstance(run_watcher, EventWatcher) and run_watcher.switch:
        run_watcher.send_revoked(request.id)
    signals.task_revoked.send(sender=task, request=request, terminated=True, signum=None,
                              expired=False)


def tree_of(request: Any) -> tuple[str | None, str | None]:
    """Celery's ``root_id`` and ``parent_id`` of the message being executed."""
    return getattr(request, "root_id", None), getattr(request, "parent_id", None)


class EventSwitch:
    """Whether this worker sends task events, readable in every pool process.

    Flower turns events on and off at run time (``enable_events``); the switch lives in
    the worker's main process (its consumer's event dispatcher). A thread there copies it
    every second into shared memory made before the pool forks.
    """

    def __init__(self, on: bool) -> None:
        self._value = multiprocessing.RawValue("b", 1 if on else 0)

    def __bool__(self) -> bool:
        return bool(self._value.value)

    def follow(self, consumer: Any) -> None:
        """Mirror `consumer`'s event switch from now on (call in the main process)."""
        def copy() -> None:
            while True:
                self._value.value = 1 if sends_task_events(consumer) else 0
                time.sleep(1.0)

        threading.Thread(target=copy, name="tasks-core-event-switch", daemon=True).start()


def sends_task_events(consumer: Any) -> bool:
    """Whether `consumer`'s event dispatcher sends task events. It is enabled whenever the
    worker sends any event (its heartbeats); task events are a group it may leave out: a
    worker without ``-E`` keeps only ``worker``, Flower's ``enable_events`` adds ``task``."""
    dispatcher = getattr(consumer, "event_dispatcher", None)
    if dispatcher is None or not dispatcher.enabled:
        return False
    groups = dispatcher.groups
    return not groups or "task" in groups


class EventWatcher:
    """Sends Celery task events and signals for runs shown by the engine (`ShownRun`).

    One event dispatcher per process, made on first use (after the pool forked), shared by
    the threads of a flow's task runner under a lock.
    """

    def __init__(self, app: Celery, hostname: str, switch: EventSwitch) -> None:
        self.app = app
        self.hostname = hostname
        self.switch = switch
        self._lock = threading.Lock()
        self._pid = 0
        self._dispatcher: Any = None

    def _sender_of(self, run: ShownRun) -> Any:
        """The user's task of `run` when this worker knows it by name (workers/task_signals.py),
        else the carrier (whose signals reach only tasks-core's receivers)."""
        return known_as(run.name) or self.app.tasks.get(EXECUTE_RUN)

    def _send(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        if not self.switch:
            return
        with self._lock:
            if self._dispatcher is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._dispatcher = self.app.events.Dispatcher(
                    self.app.connection_for_write(), hostname=self.hostname, enabled=True,
                    buffer_while_offline=False)
            for kind, fields in events:
                self._dispatcher.send(kind, **fields)

    def send_revoked(self, task_id: str) -> None:
        """``task-revoked`` for Celery task `task_id` (a run that was cancelled)."""
        self._send([("task-revoked", {"uuid": task_id, "terminated": True, "signum": None,
                                      "expired": False})])

    def started(self, run: ShownRun, attempt: int) -> None:
        """``task-received`` and ``task-started`` of attempt `attempt`."""
        if not self.switch:
            return
        self._send([
            ("task-received", {"uuid": run.run_id, "name": run.name, "args": run.argsrepr,
                               "kwargs": "{}", "retries": attempt - 1, "eta": None,
                               "root_id": run.root_id, "parent_id": run.parent_id}),
            ("task-started", {"uuid": run.run_id}),
        ])

    def concluded(self, run: ShownRun, decision: Decision, runtime: float) -> None:
        """How an attempt ended: ``task-succeeded`` / ``task-failed`` / ``task-retried`` /
        ``task-revoked`` and the matching signal (each only when it has a listener: the
        events switch is on, the signal has receivers)."""
        if isinstance(decision, Complete):
            if self.switch:
                self._send([("task-succeeded", {"uuid": run.run_id, "runtime": runtime,
                                                "result": saferepr(decision.value, 1024)})])
            if signals.task_success.receivers:
                sender = self._sender_of(run)
                with request_on(sender, self._request(run)):  # sender.request.id
                    signals.task_success.send(sender=sender, result=decision.value,
                                              task_id=run.run_id, request=self._request(run))
            return
        if isinstance(decision, Fail) and decision.state == StateName.CANCELLED:
            self.send_revoked(run.run_id)
            signals.task_revoked.send(sender=self._sender_of(run), request=self._request(run),
                                      terminated=True, signum=None, expired=False)
            return
        exc: BaseException = decision.exc or FailedRun(decision.message, run_id=run.run_id)
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(decision, Fail):
            self._send([("task-failed", {"uuid": run.run_id, "exception": saferepr(exc),
                                         "traceback": trace})])
            signals.task_failure.send(sender=self._sender_of(run), task_id=run.run_id,
                                      exception=exc, args=[], kwargs={},
                                      traceback=exc.__traceback__, einfo=None)
            return
        self._send([("task-retried", {"uuid": run.run_id, "exception": saferepr(exc),
                                      "traceback": trace})])
        signals.task_retry.send(sender=self._sender_of(run), request=self._request(run),
                                reason=Retry(decision.message, exc=exc, when=decision.when),
                                einfo=None)

    def _request(self, run: ShownRun) -> Context:
        """A Celery request context for a shown run (what signal receivers read)."""
        return Context(id=run.run_id, task=run.name, root_id=run.root_id,
                       parent_id=run.parent_id, hostname=self.hostname)

def show_runs_to_celery(app: Celery, hostname: str, events_on: bool) -> None:
    """Install the `EventWatcher` of worker `hostname` (call before the pool forks), its
    event switch starting at `events_on` and then following the worker's consumer."""
    switch = EventSwitch(events_on)
    watch_runs(EventWatcher(app, hostname, switch))

    def follow(sender: Any = None, **_: Any) -> None:
        switch.follow(sender)

    signals.worker_ready.connect(follow, weak=False)
