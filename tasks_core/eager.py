"""Eager mode: `.delay()` / `.apply_async()` run the task here, now, and `Task.apply()`.

Celery's ``task_always_eager`` (configuration, "task_always_eager") makes ``apply_async``
call ``Task.apply``: the task runs locally, blocking, and the caller gets an
``EagerResult``. tasks-core does the same when the ``always_eager`` setting
(``TASKS_CORE_ALWAYS_EAGER``) or the Celery app's ``conf.task_always_eager`` is true. The
run is tracked exactly as a direct call is (`tasks_core.engine.task_run.run_task`): a run
record, its states and events, retries attempted here. What differs from a queued run:

- ``countdown`` / ``eta`` / ``queue`` / ``priority`` are ignored, as Celery ignores them in
  eager mode (logged at INFO once per call that gives them);
- ``task_eager_propagates`` (Celery's name, read from the app's conf) makes the task's
  exception raise from ``.delay()`` / ``.apply()`` itself, as Celery's ``apply(throw=)``;
  otherwise the exception is kept in the `EagerResult` and ``.get()`` re-raises it (and
  ``.get(propagate=False)`` returns it), as Celery's ``EagerResult.get``;
- retries wait their ``retry_delay_seconds`` here (a direct call's behaviour), where
  Celery's eager ``retry()`` re-runs at once.

Bad arguments raise `ParameterError` before any run exists, as Celery's argument check
raises ``TypeError`` before sending.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any, TypeVar

from tasks_core.engine.task_run import run_task, run_task_async
from tasks_core.errors import ConfigurationError
from tasks_core.futures import TaskFuture
from tasks_core.process_runtime import get_runtime
from tasks_core.states import State

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["EagerResult", "apply", "eager_mode", "eager_propagates"]

log = logging.getLogger("tasks_core.eager")

R = TypeVar("R")


def _conf_flag(name: str) -> bool:
    return bool(get_runtime().app.conf.get(name, False))


def eager_mode() -> bool:
    """Whether `.delay()` / `.apply_async()` run in process: the ``always_eager`` setting,
    or ``task_always_eager`` on the Celery app's conf (``app.conf.task_always_eager = True``
    on `tasks_core.celery.Celery`, whose conf is the runtime's Celery app's)."""
    return get_runtime().settings.always_eager or _conf_flag("task_always_eager")


def eager_propagates() -> bool:
    """Celery's ``task_eager_propagates`` on the app's conf (default False)."""
    return _conf_flag("task_eager_propagates")


class EagerResult(TaskFuture[R]):
    """The finished run of an eager call (Celery's ``EagerResult``): the value or the
    exception is held in memory, so `get` needs no store read and works for values with
    no JSON form. `.id`, `.state`, `.record()` read the tracked run as any `TaskFuture`.
    """

    __slots__ = ("_exc", "_value")
    stored_outcome = False  # its value is held here, not read from the store

    def __init__(self, run_id: str, name: str, value: Any = None,
                 exc: BaseException | None = None) -> None:
        super().__init__(run_id, name)
        self._value = value
        self._exc = exc

    def __repr__(self) -> str:
        return f"EagerResult({self.id!r}, name={self.name!r})"

    def ready(self) -> bool:
        """Always True: the run ended before the call returned."""
        return True

    def successful(self) -> bool:
        """Whether the task returned (Celery's ``successful``)."""
        return self._exc is None

    def failed(self) -> bool:
        """Whether the task raised (Celery's ``failed``)."""
        return self._exc is not None

    @property
    def status(self) -> str:
        """Celery's state name: ``SUCCESS`` or ``FAILURE``."""
        return "SUCCESS" if self._exc is None else "FAILURE"

    @property
    def traceback(self) -> str | None:
        """The recorded traceback of a failed run (None when it succeeded)."""
        if self._exc is None:
            return None
        error = self.record().error
        return error.traceback if error else None

    def wait(self, timeout: float | None = None) -> State:
        """The run's final state (it has one already)."""
        return self.state

    def result(self, timeout: float | None = None, *, raise_on_failure: bool = True) -> R:
        """The task's value; its exception raised (or returned, `raise_on_failure=False`)."""
        if self._exc is not None:
            if raise_on_failure:
                raise self._exc
            return self._exc  # type: ignore[return-value]
        value: R = self._value
        return value

    def get(self, timeout: float | None = None, propagate: bool = True) -> R:
        """Celery's ``EagerResult.get``: the value, or the exception re-raised
        (``propagate=False``: returned). `timeout` is accepted and unused."""
        return self.result(timeout, raise_on_failure=propagate)


def apply(task: Task[Any, R], args: tuple[Any, ...], kwargs: dict[str, Any], *,
          task_id: str | None = None, throw: bool | None = None,
          ignored: dict[str, Any] | None = None) -> EagerResult[R]:
    """Run `task` here as a tracked run and return its `EagerResult` (Celery's
    ``Task.apply``).

    Args:
        task_id: the run id (default: a new uuid4).
        throw: re-raise the task's exception here; None: ``task_eager_propagates``.
        ignored: queue options the caller gave that eager mode ignores (logged).

    Raises:
        ParameterError: the arguments do not fit the task's signature (no run is made).
        ConfigurationError: an async task applied inside a running event loop.
        Exception: the task's own, when `throw` (or ``task_eager_propagates``) says so.
    """
    task.parameters.bind(args, kwargs)  # bad arguments: raised before a run exists
    _refuse_inside_a_loop(task)
    if given := {k: v for k, v in (ignored or {}).items() if v is not None}:
        log.info("task %s run eagerly: %s ignored in eager mode", task.name, sorted(given))
    run_id = task_id or str(uuid.uuid4())
    throw = eager_propagates() if throw is None else throw
    try:
        value = _call(task, args, kwargs, run_id)
    except Exception as exc:
        get_runtime().reporter.flush()
        if throw:
            raise
        return EagerResult(run_id, task.name, exc=exc)
    get_runtime().reporter.flush()  # the record readable at once, as after a queued run
    return EagerResult(run_id, task.name, value=value)


def _refuse_inside_a_loop(task: Task[Any, Any]) -> None:
    if not task.is_async:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise ConfigurationError(
        f"task {task.name!r} is async: eager .delay()/.apply() cannot block inside a running "
        "event loop; await the task directly instead")


def _call(task: Task[Any, R], args: tuple[Any, ...], kwargs: dict[str, Any],
          run_id: str) -> Any:
    if task.is_async:
        return asyncio.run(run_task_async(task, args, kwargs, run_id=run_id))
    return run_task(task, args, kwargs, run_id=run_id)
