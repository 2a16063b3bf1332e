"""`AsyncResult`: a run's result by id, with Celery's semantics (docs.celeryq.dev,
reference ``celery.result.AsyncResult``; states from ``celery.states``).

``AsyncResult(id)`` works from any process that reaches the same Redis; the ledger is the
backend. What differs from `TaskFuture` (Prefect's spelling), on purpose:

- ``.state`` / ``.status`` are Celery's names as plain strings (``PENDING``, ``STARTED``,
  ``RETRY``, ``FAILURE``, ``SUCCESS``, ``REVOKED``, mapped by `celery_state`), or the
  custom state a running task set with ``self.update_state(state=, meta=)``.
- ``.result`` and ``.info`` are PROPERTIES (the value, the exception of a failed run, the
  ``meta`` of a custom state, else None); on `TaskFuture`, ``result()`` is a method.
- an unknown id reads ``PENDING`` (as in Celery: a result backend cannot tell "unknown"
  from "not started"), never RunNotFound; ``get()`` then waits for it to appear.
- ``get(timeout=)`` raises `RunTimeout`, which is also ``celery.exceptions.TimeoutError``.

Stronger than Celery: the state comes from the run's ledger record, so a revoked run stays
revoked (it never runs later), and ``forget()`` drops only the stored value: the record
and its history stay (``.result`` then reads None, as in Celery).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from tasks_core.engine.context import current_run
from tasks_core.errors import ResultError, RunTimeout
from tasks_core.futures import TaskFuture, run_exception
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, celery_state

__all__ = ["READY_STATES", "AsyncResult", "EagerResult"]

READY_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED"})
"""Celery's ``celery.states.READY_STATES``."""


def assert_can_wait(disable_sync_subtasks: bool = True) -> None:
    """Celery's rule for ``AsyncResult.get`` and ``ResultSet.join``: inside a task running
    on a worker, waiting for another task is refused (with one process free it would wait
    for ever), unless ``disable_sync_subtasks=False`` or within Celery's
    ``allow_join_result()``. A flow run waits for its tasks as Prefect's do: not refused.

    Raises:
        RuntimeError: Celery's own ("Never call result.get() within a task! ...").
    """
    if not disable_sync_subtasks:
        return
    frame = current_run.get()
    if frame is None or frame.kind == "task":
        from celery.result import assert_will_not_block  # Celery's own check: its worker
        assert_will_not_block()  # processes set the flag


class AsyncResult(TaskFuture[Any]):
    """A task run's result by id, as Celery's ``AsyncResult``.

    Args:
        id: the run id (Celery's task id).
        backend, app, parent: accepted for Celery's signature; the ledger is the backend.
        task_name: the task's name, when known (``.name``).
    """

    __slots__ = ()

    def __init__(self, id: str, backend: Any = None, task_name: str | None = None,  # Celery's
                 app: Any = None, parent: Any = None) -> None:
        super().__init__(id, task_name or "")

    @classmethod
    def from_future(cls, future: TaskFuture[Any]) -> AsyncResult:
        """The AsyncResult of a future (what ``.delay()`` returns in Celery's spelling)."""
        result = cls(future.id, task_name=future.name)
        result.return_type = future.return_type  # results decode to the task's type
        return result

    def __repr__(self) -> str:
        return f"<AsyncResult: {self.id}>"

    def __str__(self) -> str:
        return self.id

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AsyncResult):
            return other.id == self.id
        if isinstance(other, str):
            return other == self.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def task_id(self) -> str:
        """Celery's name for the id."""
        return self.id

    def _record(self) -> RunRecord | None:
        records = get_runtime().store.get_many([self.id])
        return records[0] if records else None

    @property
    def state(self) -> str:  # type: ignore[override]  # Celery's name, a plain str
        """Celery's state name now (one read): ``PENDING`` for an unknown id, a custom
        ``update_state`` state while the run has not ended."""
        record = self._record()
        if record is None:
            return "PENDING"
        custom = getattr(record, "celery_state", None)
        if custom and not record.is_terminal:
            return str(custom)
        return celery_state(record.state)

    @property
    def status(self) -> str:
        """Celery's alias of `state`."""
        return self.state

    def ready(self) -> bool:
        """Whether the run has ended (SUCCESS, FAILURE or REVOKED)."""
        record = self._record()
        return record is not None and record.is_terminal

    def successful(self) -> bool:
        """Whether the run ended SUCCESS."""
        return self.state == "SUCCESS"

    def failed(self) -> bool:
        """Whether the run ended FAILURE (Failed, TimedOut or Crashed)."""
        return self.state == "FAILURE"

    @property
    def result(self) -> Any:  # Celery's property, not a method
        """The value of a completed run, the exception of a failed one, the ``meta`` of a
        custom state; None otherwise (not ended, unknown id, forgotten or expired)."""
        record = self._record()
        if record is None:
            return None
        if not record.is_terminal:
            return _meta(record)
        if record.state in (StateName.COMPLETED, StateName.CACHED):
            try:
                return self.outcome()
            except ResultError:  # forgotten or expired: Celery reads None
                return None
        return run_exception(record)

    @property
    def info(self) -> Any:
        """Celery's alias of `result` (the ``meta`` of a custom state)."""
        return self.result

    @property
    def traceback(self) -> str | None:
        """The formatted traceback of a failed run, else None."""
        record = self._record()
        if record is None or not record.is_terminal or record.error is None:
            return None
        return record.error.traceback or None

    @property
    def date_done(self) -> datetime | None:
        """When the run ended (UTC), else None."""
        record = self._record()
        return record.end_time if record is not None and record.is_terminal else None

    @property
    def args(self) -> list[Any] | None:
        """None: runs record their parameters by name (see `kwargs`), as Celery without
        ``result_extended`` gives None."""
        return None

    @property
    def kwargs(self) -> dict[str, Any] | None:
        """The run's parameters by name, as recorded (JSON values); None for an unknown id."""
        record = self._record()
        return dict(record.parameters) if record is not None else None

    def get(self, timeout: float | None = None, propagate: bool = True,
            interval: float = 0.5, *, disable_sync_subtasks: bool = True, **_: Any) -> Any:
        """Wait for the run and return its value (Celery's ``get``).

        Args:
            timeout: seconds to wait (None: no limit).
            propagate: re-raise the run's exception (False: return it).
            interval: accepted for Celery's signature; waiting is pushed, not polled.
            disable_sync_subtasks: as Celery's: refuse to wait inside a task on a worker
                (`assert_can_wait`).

        Raises:
            RuntimeError: called inside a task on a worker (Celery's "Never call
                result.get() within a task!").
            RunTimeout (a ``celery.exceptions.TimeoutError``): not ended in time; the run's
            exception when it failed and `propagate`.
        """
        assert_can_wait(disable_sync_subtasks)
        deadline = None if timeout is None else time.monotonic() + timeout
        self._appear(deadline)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return TaskFuture.result(self, left, raise_on_failure=propagate)

    def _appear(self, deadline: float | None) -> None:
        """Wait for a run not created yet (an id given before its run exists)."""
        pause = 0.01
        while self._record() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise RunTimeout(f"run {self.id}: no such run yet (PENDING) after waiting")
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def wait(self, timeout: float | None = None, propagate: bool = True,
             interval: float = 0.5, **_: Any) -> Any:
        """Celery's deprecated alias of `get`."""
        return self.get(timeout, propagate, interval)

    def forget(self) -> None:
        """Delete the stored result (Celery's ``forget``); the run's record and history
        stay, and `result` reads None afterwards."""
        get_runtime().store.forget_result(self.id)

    def revoke(self, connection: Any = None, terminate: bool = False,  # type: ignore[override]
               signal: Any = None, wait: bool = False, timeout: float | None = None) -> None:
        """Cancel the run (Celery's ``revoke``): a queued run never starts (Cancelled in
        the ledger, so no worker or sweeper runs it later); ``terminate=True`` also stops a
        running one by force (`cancel_run(force=True)`). `wait` waits up to `timeout` for
        the run to end."""
        self.cancel(force=terminate)
        if wait:
            TaskFuture.wait(self, timeout)


def _meta(record: RunRecord) -> Any:
    """The ``meta`` a running task stored with ``update_state`` (None when none)."""
    meta = getattr(record, "celery_meta", None)
    if isinstance(meta, str):
        try:
            return json.loads(meta)
        except ValueError:
            return meta
    return meta


class EagerResult(AsyncResult):
    """The result of a task run in this process (Celery's ``EagerResult``: what
    ``task.apply()`` and ``task_always_eager`` give), holding its value in memory: an
    in-process run's value is not stored in Redis, while its record is.

    Args:
        id: the run id.
        ret_value: the value, or the exception of a failed run.
        state: Celery's state name (``SUCCESS``, ``FAILURE``, ...).
        traceback: the formatted traceback of a failed run.
        name: the task's name.
    """

    __slots__ = ("_state", "_traceback", "_value")
    stored_outcome = False  # its value is held here, not read from the store

    def __init__(self, id: str, ret_value: Any, state: str,  # Celery's names
                 traceback: str | None = None, name: str | None = None) -> None:
        super().__init__(id, task_name=name)
        self._value = ret_value
        self._state = state
        self._traceback = traceback

    def __repr__(self) -> str:
        return f"<EagerResult: {self.id}>"

    @property
    def state(self) -> str:  # type: ignore[override]
        """Celery's state name, as the run ended."""
        return self._state

    def ready(self) -> bool:
        return self._state in READY_STATES

    @property
    def result(self) -> Any:
        """The value, or the exception of a failed run."""
        return self._value

    @property
    def traceback(self) -> str | None:
        return self._traceback

    def get(self, timeout: float | None = None, propagate: bool = True,
            interval: float = 0.5, **_: Any) -> Any:
        """The value; a failed run's exception is raised when `propagate`."""
        if propagate and isinstance(self._value, BaseException):
            raise self._value
        return self._value
