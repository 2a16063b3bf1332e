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
from tasks_core.futures import TaskFuture
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["CeleryTaskRunner", "InProcessFuture", "TaskRunner", "ThreadPoolTaskRunner",
           "current_runner", "resolve_futures"]

RunFuture = Any  # TaskFuture | InProcessFuture


class InProcessFuture:
    """A task run executing in a thread of this process."""

    def __init__(self, run_id: str, name: str, future: Future[Any]) -> None:
        self.id = run_id
        self.name = name
        self._future = future

    def __repr__(self) -> str:
        return f"InProcessFuture({self.id!r}, name={self.name!r})"

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
    def state(self) -> StateName:
        """The recorded state of the run."""
        if not self._future.done():
            return StateName.RUNNING
        get_runtime().reporter.flush()
        return get_runtime().store.get(self.id).state


def resolve_futures(value: Any) -> Any:
    """Replace futures (also inside lists, tuples and dicts) by their results."""
    if isinstance(value, InProcessFuture | TaskFuture):
        return value.result()
    if isinstance(value, list | tuple):
        return type(value)(resolve_futures(v) for v in value)
    if isinstance(value, dict):
        return {k: resolve_futures(v) for k, v in value.items()}
    return value


def _wait_for(futures: Iterable[RunFuture] | None) -> None:
    for future in futures or ():
        future.wait()


class TaskRunner(ABC):
    """Runs submitted task runs for one flow run; `close()` waits for the unfinished ones."""

    @abstractmethod
    def submit(self, task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any],
               wait_for: Sequence[RunFuture] | None = None) -> RunFuture:
        """Start one run of `task`; its future."""

    def map(self, task: Task[Any, Any], iterables: tuple[Iterable[Any], ...],
            unmapped: dict[str, Any]) -> list[RunFuture]:
        """One submitted run per zipped input."""
        return [self.submit(task, tuple(values), dict(unmapped))
                for values in zip(*iterables, strict=True)]

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
            _wait_for(wait_for)
            return run_task(task, resolve_futures(args), resolve_futures(kwargs),
                            run_id=run_id)

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
               wait_for: Sequence[RunFuture] | None = None) -> TaskFuture[Any]:
        _wait_for(wait_for)
        future = task._send(resolve_futures(args), resolve_futures(kwargs))
        self._futures.append(future)
        return future

    def close(self) -> None:
        for future in self._futures:
            future.wait()


current_runner: ContextVar[TaskRunner | None] = ContextVar("tasks_core_runner", default=None)
