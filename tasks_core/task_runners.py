"""Task runners: where `task.submit()` and `task.map()` run inside a flow.

`ThreadPoolTaskRunner` (the default) runs each submitted task run in a thread of this
process; `CeleryTaskRunner` ships each one to a Celery queue, so a flow fans out over many
workers. Futures passed as arguments are resolved first, `wait_for` orders runs without
passing data, and a flow waits for its unfinished futures before it ends.
"""

from __future__ import annotations

import contextvars
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from tasks_core.engine.task_run import run_task
from tasks_core.errors import UpstreamFailed
from tasks_core.futures import TaskFuture
from tasks_core.inputs import resolve_inputs, wait_upstream
from tasks_core.process_runtime import get_runtime
from tasks_core.states import State, StateName

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["CeleryTaskRunner", "InProcessFuture", "TaskRunner", "ThreadPoolTaskRunner",
           "current_runner", "resolve_futures"]

RunFuture = Any  # TaskFuture | InProcessFuture


class InProcessFuture:
    """A task run executing in a thread of this process."""

    is_run_future = True  # resolved as an argument (`tasks_core.inputs.is_future`)

    def __init__(self, run_id: str, name: str, future: Future[Any]) -> None:
        self.id = run_id
        self.name = name
        self._future = future

    def __repr__(self) -> str:
        return f"InProcessFuture({self.id!r}, name={self.name!r})"

    @property
    def task_run_id(self) -> str:
        """Prefect's name for the run id."""
        return self.id

    def result(self, timeout: float | None = None, *, raise_on_failure: bool = True) -> Any:
        """The run's value; its exception is raised (or returned) when it failed."""
        try:
            return self._future.result(timeout)
        except Exception as exc:
            if raise_on_failure:
                raise
            return exc

    def wait(self, timeout: float | None = None) -> None:
        """Block until the run has finished."""
        wait_futures([self._future], timeout)

    def done(self) -> bool:
        return self._future.done()

    @property
    def state(self) -> State:
        """The run's `State`: Running until its thread is done, then the recorded final
        state, holding the value (or exception) this process has."""
        if not self._future.done():
            return State(StateName.RUNNING, self.id)
        get_runtime().reporter.flush()
        record = get_runtime().store.get(self.id)
        exc = self._future.exception()
        return State(record.state, self.id, record.state_message, record.error,
                     None if exc else self._future.result(), exc,
                     record.end_time or record.created)


def resolve_futures(value: Any) -> Any:
    """Replace futures (also inside lists, tuples, sets and dicts) by their results
    (`tasks_core.inputs.resolve_inputs`: annotations honoured)."""
    return resolve_inputs(value)


def _ready(wait_for: Sequence[RunFuture] | None, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any],
                                            UpstreamFailed | None]:
    """Wait for `wait_for` and resolve the arguments; or the UpstreamFailed that stops it."""
    try:
        wait_upstream(wait_for)
        return resolve_inputs(args), resolve_inputs(kwargs), None
    except UpstreamFailed as exc:
        return args, kwargs, exc


def blocked_run(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                exc: UpstreamFailed) -> InProcessFuture:
    """Record a run stopped by a failed upstream (Failed, here) and its done future."""
    run_id = str(uuid.uuid4())
    future: Future[Any] = Future()
    try:
        future.set_result(run_task(task, args, kwargs, run_id=run_id, blocked_by=exc))
    except Exception as err:
        future.set_exception(err)
    return InProcessFuture(run_id, task.name, future)


class TaskRunner(ABC):
    """Runs submitted task runs for one flow run; `close()` waits for the unfinished ones."""

    @abstractmethod
    def submit(self, task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any],
               wait_for: Sequence[RunFuture] | None = None) -> RunFuture:
        """Start one run of `task`; its future."""

    def map(self, task: Task[Any, Any], calls: Iterable[tuple[Sequence[Any], dict[str, Any]]],
            wait_for: Sequence[RunFuture] | None = None) -> list[RunFuture]:
        """One submitted run per call `(args, kwargs)` (`tasks_core.inputs.map_calls`)."""
        return [self.submit(task, tuple(args), dict(kwargs), wait_for)
                for args, kwargs in calls]

    @abstractmethod
    def close(self) -> None:
        """Wait for every unfinished run."""

    def duplicate(self) -> TaskRunner:
        """A fresh runner with the same options, for one flow run."""
        return type(self)()


class ThreadPoolTaskRunner(TaskRunner):
    """Task runs in threads of this process (the default)."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[Any]] = []

    def duplicate(self) -> TaskRunner:
        return ThreadPoolTaskRunner(self.max_workers)

    def submit(self, task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any],
               wait_for: Sequence[RunFuture] | None = None) -> InProcessFuture:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="tasks-core")
        run_id = str(uuid.uuid4())
        context = contextvars.copy_context()  # the flow's run frame links the task to it

        def execute() -> Any:
            call_args, call_kwargs, blocked = _ready(wait_for, args, kwargs)
            return run_task(task, call_args, call_kwargs, run_id=run_id, blocked_by=blocked)

        future = self._pool.submit(context.run, execute)
        self._futures.append(future)
        return InProcessFuture(run_id, task.name, future)

    def close(self) -> None:
        if self._pool is not None:
            wait_futures(self._futures)
            self._pool.shutdown(wait=True)
            self._pool = None


class CeleryTaskRunner(TaskRunner):
    """Each submitted task run goes to a Celery queue (its task's queue or the default)."""

    def __init__(self) -> None:
        self._futures: list[TaskFuture[Any]] = []

    def submit(self, task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any],
               wait_for: Sequence[RunFuture] | None = None) -> RunFuture:
        call_args, call_kwargs, blocked = _ready(wait_for, args, kwargs)
        if blocked is not None:
            return blocked_run(task, args, kwargs, blocked)
        future = task._send(call_args, call_kwargs)
        self._futures.append(future)
        return future

    def close(self) -> None:
        for future in self._futures:
            future.wait()


current_runner: ContextVar[TaskRunner | None] = ContextVar("tasks_core_runner", default=None)
