"""Celery's task signals with the user's task as sender.

Every run executes inside one of tasks-core's own Celery tasks (the carrier,
``tasks_core.run``; see `tasks_core.celery_app`), so Celery's tracer sends ``task_prerun``,
``task_postrun``, ``task_success``, ``task_failure``, ``task_retry`` and ``task_revoked``
with the carrier as sender, its args ``[run_id, attempt]``. Here:

- `install` (in the worker's main process, before the pool forks) makes those signals skip
  receivers of the user's for a carrier sender (tasks-core's own receivers, in ``workers.``
  and ``tasks_core.``, still get them: they keep the ledger and Celery's view agreeing);
- `RunSignals` sends them again from the run's own execution (workers/execute.py) with
  Celery's documented arguments and the user's `Task` object as sender and ``task=`` (so
  ``connect(sender=add)`` filters and ``sender.name`` is the task's name, ``"proj.add"``
  for ``name="proj.add"``); ``args`` / ``kwargs`` are the run's own arguments, ``task_id``
  the run id, ``task_postrun``'s ``state`` the run's end in Celery's names (SUCCESS,
  FAILURE, RETRY, REVOKED), ``task_success``'s ``result`` its value, ``task_failure``'s
  ``exception`` / ``traceback`` / ``einfo`` its exception.

A worker that did not `install` (Celery's ``celery.contrib.testing`` worker) sends Celery's
signals only, with the carrier as sender.

Runs shown to Celery inside another run's message (a ``.map()`` chunk's runs, task runs of
a flow on a worker) get ``task_success`` / ``task_failure`` / ``task_retry`` /
``task_revoked`` from `workers.celery_view.EventWatcher`, with the user's task as sender
when this worker knows it by name. ``task_received`` (sender: the consumer), ``worker_ready``
and ``worker_process_init`` are Celery's own, unchanged. A direct call in process (``add(2,
3)``) sends no signal, as a direct call of a Celery task sends none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import signals
from celery.app.task import Context
from celery.app.task import Task as CeleryTask
from celery.app.trace import ExceptionInfo  # billiard's, as Celery re-exports it
from celery.exceptions import Retry
from celery.utils.dispatch.signal import Signal

from tasks_core.celery_app import EXECUTE_RUN
from tasks_core.engine.expiry import is_expired
from tasks_core.engine.outcome import Complete, Decision, Fail
from tasks_core.engine.request import Request, current_request
from tasks_core.errors import FailedRun
from tasks_core.process_runtime import HOST
from tasks_core.registry import known_as
from tasks_core.states import StateName

__all__ = ["CARRIERS", "RunSignals", "celery_state", "expired_revoked", "install", "installed",
           "request_on", "revoked_through_celery"]

log = logging.getLogger("tasks_core.worker")

CARRIERS = frozenset({EXECUTE_RUN})
"""The carrier whose signals are sent again with the user's task: ``tasks_core.run`` (one
task run per message). A ``.map()`` chunk's message (``tasks_core.run_chunk``) and a
deployment's flow run (``tasks_core.run_flow``) keep Celery's own signals, their sender
that Celery task (the chunk's runs also get theirs from the EventWatcher)."""

_OURS = ("workers.", "tasks_core.")


class _RunSignal(Signal):  # type: ignore[misc]
    """A task signal whose carrier-sent copies reach only tasks-core's own receivers."""

    def _live_receivers(self, sender: Any) -> list[Any]:
        receivers: list[Any] = super()._live_receivers(sender)
        if getattr(sender, "name", None) not in CARRIERS:
            return receivers
        return [r for r in receivers if getattr(r, "__module__", "").startswith(_OURS)]


_TASK_SIGNALS = (signals.task_prerun, signals.task_postrun, signals.task_success,
                 signals.task_failure, signals.task_retry, signals.task_revoked)


def install() -> None:
    """Make Celery's task signals skip user receivers for carrier senders (idempotent);
    from then on `RunSignals` sends them with the user's task."""
    for signal in _TASK_SIGNALS:
        if type(signal) is Signal:
            signal.__class__ = _RunSignal


def installed() -> bool:
    """Whether `install` ran in this process (or the process it forked from): a worker
    that did not (Celery's own test worker) keeps Celery's signals as they are."""
    return type(signals.task_prerun) is _RunSignal


@contextmanager
def request_on(task: Any, request: Context) -> Iterator[None]:
    """While signals are sent: ``sender.request`` of the user's `task` is `request` (the
    run's id, name, args, retries, hostname), as receivers read it from a Celery task
    (``sender.request.id``): through the executing-request context a tasks-core task's
    ``request`` reads (`tasks_core.engine.request`), else set on the object for the time
    of the call. A Celery task (the carrier) keeps its own."""
    if isinstance(task, CeleryTask):
        yield
        return
    if any("request" in vars(cls) for cls in type(task).__mro__):
        token = current_request.set(Request(
            id=request.id, task=request.task, retries=request.retries or 0,
            args=tuple(request.args or ()), kwargs=dict(request.kwargs or {}),
            hostname=request.hostname, called_directly=False))
        try:
            yield
        finally:
            current_request.reset(token)
        return
    task.__dict__["request"] = request
    try:
        yield
    finally:
        task.__dict__.pop("request", None)


def expired_revoked(task_name: str, run_id: str) -> None:
    """``task_revoked`` with ``expired=True`` for a run that expired before it started
    (Celery sends only that signal for an expired message), its task as sender when this
    worker knows `task_name`."""
    task = known_as(task_name)
    if task is None or not installed():
        return
    signals_of = RunSignals(task, run_id, 1, [], {})
    signals_of._send(signals.task_revoked, request=signals_of._request(), terminated=False,
                     signum=None, expired=True)


def revoked_through_celery(task_name: str, run_id: str, *, terminated: bool,
                           signum: Any = None) -> None:
    """``task_revoked`` with the user's task as sender for a run Celery's control revoked
    (``app.control.revoke``, ``celery control revoke``): Celery sent it for the carrier,
    which only tasks-core's receivers hear; nothing when this worker does not know
    `task_name`."""
    task = known_as(task_name)
    if task is None or not installed():
        return
    signals_of = RunSignals(task, run_id, 1, [], {})
    signals_of._send(signals.task_revoked, request=signals_of._request(),
                     terminated=terminated, signum=signum, expired=False)


def celery_state(decision: Decision) -> str:
    """How an attempt ended, in Celery's state names."""
    if isinstance(decision, Complete):
        return "SUCCESS"
    if isinstance(decision, Fail):
        return "REVOKED" if decision.state == StateName.CANCELLED else "FAILURE"
    return "RETRY"


class RunSignals:
    """The task signals of one attempt of a run, sent with `task` (the user's) as sender."""

    def __init__(self, task: Any, run_id: str, attempt: int, args: list[Any],
                 kwargs: dict[str, Any]) -> None:
        self.task = task
        self.run_id = run_id
        self.attempt = attempt
        self.args = args
        self.kwargs = kwargs

    def _request(self) -> Context:
        return Context(id=self.run_id, task=self.task.name, args=self.args,
                       kwargs=self.kwargs, retries=self.attempt - 1, hostname=HOST)

    def _send(self, signal: Signal, **named: Any) -> None:
        if signal.receivers:
            try:
                with request_on(self.task, self._request()):
                    signal.send(sender=self.task, **named)
            except Exception:  # a receiver's error never touches the run (Celery logs it)
                log.exception("run %s: %s receivers failed", self.run_id, signal.name)

    def prerun(self) -> None:
        """``task_prerun``: the attempt starts."""
        self._send(signals.task_prerun, task_id=self.run_id, task=self.task, args=self.args,
                   kwargs=self.kwargs)

    def ended(self, decision: Decision) -> None:
        """The signal of how the attempt ended, then ``task_postrun`` with its state."""
        if isinstance(decision, Complete):
            self._send(signals.task_success, result=decision.value)
            retval: Any = decision.value
        elif isinstance(decision, Fail) and decision.state == StateName.CANCELLED:
            self._send(signals.task_revoked, request=self._request(), terminated=not
                       is_expired(decision), signum=None, expired=is_expired(decision))
            retval = None
        else:
            exc = decision.exc or FailedRun(decision.message, run_id=self.run_id)
            einfo = ExceptionInfo((type(exc), exc, exc.__traceback__))
            retval = exc
            if isinstance(decision, Fail):
                self._send(signals.task_failure, task_id=self.run_id, exception=exc,
                           args=self.args, kwargs=self.kwargs, traceback=exc.__traceback__,
                           einfo=einfo)
            else:
                self._send(signals.task_retry, request=self._request(),
                           reason=Retry(decision.message, exc=exc, when=decision.when),
                           einfo=einfo)
        self._send(signals.task_postrun, task_id=self.run_id, task=self.task, args=self.args,
                   kwargs=self.kwargs, retval=retval, state=celery_state(decision))
