"""Celery's Task handlers and Prefect's `retry_condition_fn`, on the one lifecycle.

- Handlers a ``base=`` Task subclass overrides (Celery's user guide "Tasks", *Handlers*):
  ``on_success(retval, task_id, args, kwargs)``, ``on_failure(exc, task_id, args, kwargs,
  einfo)`` and ``after_return(status, retval, task_id, args, kwargs, einfo)`` become state
  change hooks of the task (`handler_hooks`), so they are called once, when the run ends,
  on every path (`hooks.fire_final`), a Crashed run calling ``on_failure`` with Celery's
  `WorkerLostError`; ``on_retry(exc, task_id, args, kwargs, einfo)`` is called by
  `lifecycle.conclude` each time a failure will be retried (`fire_retry`).
  `args` are the run's recorded parameter values in order, `kwargs` is empty; `einfo` is
  an `Einfo` (exception, type, traceback text).
- `retry_condition_fn(task, task_run, state) -> bool` (Prefect 3's task option) is asked
  by `outcome.decide` when a failure would be retried (`retry_condition`); False, or an
  exception from it (logged), makes the failure final.

A handler or condition that raises is logged with the run id and changes nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from celery.exceptions import WorkerLostError

from tasks_core.engine.hooks import Hook
from tasks_core.engine.outcome import Ended, Retry
from tasks_core.engine.views import RunState, RunView
from tasks_core.states import StateName
from tasks_core.store.runs import utcnow

if TYPE_CHECKING:
    from tasks_core.engine.lifecycle import RunHandle

__all__ = ["Einfo", "fire_retry", "handler_hooks", "overrides", "retry_condition"]

log = logging.getLogger("tasks_core.hooks")


@dataclass(frozen=True, slots=True)
class Einfo:
    """Celery's ``einfo`` argument: the exception, its type and its traceback text."""

    exception: BaseException
    type: type[BaseException]
    traceback: str

    def __str__(self) -> str:
        return self.traceback


def overrides(task: Any, name: str) -> bool:
    """Whether `task`'s class defines Celery handler `name` itself (not our defaults)."""
    from tasks_core.engine.hooks import TaskHookMethods
    from tasks_core.task_celery import CeleryTaskMethods

    found = getattr(type(task), name, None)
    return found is not None and found not in (getattr(CeleryTaskMethods, name, None),
                                               getattr(TaskHookMethods, name, None))


def _args(run: RunView) -> tuple[Any, ...]:
    return tuple(run.parameters.values())


def _einfo(state: RunState) -> Einfo:
    exc = state.exception
    if exc is None:
        text = state.error.message if state.error else state.message
        exc = (WorkerLostError(text) if state.name == StateName.CRASHED else Exception(text))
    traceback = state.error.traceback if state.error else ""
    return Einfo(exc, type(exc), traceback)


def handler_hooks(task: Any) -> dict[str, list[Hook]]:
    """The state change hooks calling `task`'s overridden Celery handlers, by option."""
    success, failure, after = (overrides(task, n) for n in
                               ("on_success", "on_failure", "after_return"))
    hooks: dict[str, list[Hook]] = {}
    if success or after:
        def completed(t: Any, run: RunView, state: RunState) -> None:
            if success:
                t.on_success(state.data, run.id, _args(run), {})
            if after:
                t.after_return("SUCCESS", state.data, run.id, _args(run), {}, None)

        hooks["on_completion"] = [completed]
    if failure or after:
        def failed(t: Any, run: RunView, state: RunState) -> None:
            einfo = _einfo(state)
            if failure:
                type(t).on_failure(t, einfo.exception, run.id, _args(run), {}, einfo)
            if after:
                t.after_return("FAILURE", einfo.exception, run.id, _args(run), {}, einfo)

        hooks["on_failure"] = [failed]
        hooks["on_crashed"] = [failed]
    return hooks


def _view(handle: RunHandle, state: RunState, attempt: int) -> tuple[Any, RunView] | None:
    hooks = handle.hooks
    if hooks is None:
        return None
    definition = hooks.found(state.name)
    if definition is None:
        return None
    return definition, hooks.view(state, attempt)


def _failure_state(handle: RunHandle, ended: Ended, name: StateName) -> RunState:
    message = f"{ended.error.type}: {ended.error.message}"[:500] if ended.error else ""
    return RunState(name, handle.run_id, message, ended.error, None, ended.exc, utcnow())


def retry_condition(handle: RunHandle, attempt: int) -> Callable[[Ended], bool] | None:
    """The run's `retry_condition_fn` as `decide`'s predicate on a failure (None: the
    task has none, or the run has no task here)."""
    hooks = handle.hooks
    definition = hooks.definition if hooks is not None else None
    condition = getattr(definition, "retry_condition_fn", None)
    if condition is None:
        return None

    def allowed(ended: Ended) -> bool:
        state = _failure_state(handle, ended, StateName.FAILED)
        found = _view(handle, state, attempt)
        if found is None:
            return True
        try:
            return bool(condition(found[0], found[1], state))
        except Exception:
            log.exception("run %s: retry_condition_fn raised; the failure is final",
                          handle.run_id)
            return False

    return allowed


def fire_retry(handle: RunHandle, decision: Retry, attempt: int) -> None:
    """Call the task's overridden ``on_retry`` for a failure that will be retried."""
    hooks = handle.hooks
    definition = hooks.definition if hooks is not None else None
    if definition is None or not overrides(definition, "on_retry"):
        return
    state = RunState(StateName.AWAITING_RETRY, handle.run_id, decision.message,
                     decision.error, None, decision.exc, utcnow())
    found = _view(handle, state, attempt)
    if found is None:
        return
    exc = decision.exc or Exception(decision.error.message)
    try:
        found[0].on_retry(exc, handle.run_id, _args(found[1]), {},
                          Einfo(exc, type(exc), decision.error.traceback))
    except Exception:
        log.exception("run %s: on_retry raised", handle.run_id)
