"""`@task`: definitions only (options, direct call, delay/apply_async, submit, map).

Options are validated when the decorator runs, not when the task first executes.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, ParamSpec, TypeVar, overload

from tasks_core.dispatch import Envelope, hard_time_limit
from tasks_core.engine.params import bind_parameters, dumps_parameters
from tasks_core.engine.task_run import new_run, run_inline, run_inline_async
from tasks_core.errors import ConfigurationError
from tasks_core.events.schema import run_related
from tasks_core.futures import TaskFuture
from tasks_core.registry import register
from tasks_core.runtime import get_runtime
from tasks_core.states import StateName

__all__ = ["Task", "exponential_backoff", "task"]

P = ParamSpec("P")
R = TypeVar("R")

RetryDelay = float | int | Sequence[float] | Callable[[int], Sequence[float]]


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """Retry delays of backoff_factor * 2**n seconds, for `retry_delay_seconds`."""
    if backoff_factor < 0:
        raise ConfigurationError(f"backoff_factor must be >= 0, got {backoff_factor}")

    def delays(retries: int) -> list[float]:
        return [backoff_factor * 2**n for n in range(retries)]

    return delays


def _retry_delays(name: str, retries: int, value: RetryDelay) -> list[float]:
    if callable(value):
        value = value(retries)
    delays = [float(value)] if isinstance(value, int | float) else [float(v) for v in value]
    if any(d < 0 or math.isnan(d) for d in delays):
        raise ConfigurationError(f"task {name}: retry_delay_seconds must be >= 0, got {delays}")
    return delays


def _log_prints(kind: str, name: str, value: Any) -> bool | None:
    """A validated `log_prints` option (None: inherit from the enclosing run)."""
    if value is not None and not isinstance(value, bool):
        raise ConfigurationError(
            f"{kind} {name}: log_prints must be True, False or None, got {value!r}")
    return value


def task_key(fn: Callable[..., Any]) -> str:
    """``module:qualname``, the importable address of a task (``__main__`` resolved)."""
    module = fn.__module__
    if module == "__main__":
        main = sys.modules["__main__"]
        spec = getattr(main, "__spec__", None)
        if spec is not None and spec.name:
            module = spec.name
        elif getattr(main, "__file__", None):
            module = str(main.__file__).rsplit("/", 1)[-1].removesuffix(".py")
    return f"{module}:{fn.__qualname__}"


class Task(Generic[P, R]):
    """A function tracked as task runs, runnable in process or on Celery workers."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        retries: int = 0,
        retry_delay_seconds: RetryDelay = 0,
        retry_jitter_factor: float | None = None,
        timeout_seconds: float | None = None,
        tags: Iterable[str] | None = None,
        queue: str | None = None,
        priority: int = 0,
        log_prints: bool | None = None,
        cache_key_fn: Callable[..., str | None] | None = None,
        cache_policy: str | None = None,
        cache_expiration: timedelta | float | None = None,
        refresh_cache: bool = False,
    ) -> None:
        if not callable(fn):
            raise ConfigurationError(f"@task needs a function, got {fn!r}")
        self.fn = fn
        self.name = name or fn.__name__
        self.description = description or inspect.getdoc(fn)
        if retries < 0:
            raise ConfigurationError(f"task {self.name}: retries must be >= 0, got {retries}")
        self.retries = retries
        self.retry_delays = _retry_delays(self.name, retries, retry_delay_seconds)
        if retry_jitter_factor is not None and retry_jitter_factor < 0:
            raise ConfigurationError(f"task {self.name}: retry_jitter_factor must be >= 0")
        self.retry_jitter_factor = retry_jitter_factor
        if timeout_seconds is not None and not timeout_seconds > 0:
            raise ConfigurationError(f"task {self.name}: timeout_seconds must be > 0")
        self.timeout_seconds = timeout_seconds
        self.tags = sorted(set(tags or ()))
        self.queue = queue
        if not 0 <= priority <= 9:
            raise ConfigurationError(f"task {self.name}: priority must be 0..9, got {priority}")
        self.priority = priority
        # print() captured into the run's logs; None inherits it from the enclosing flow
        self.log_prints = _log_prints("task", self.name, log_prints)
        if cache_policy not in (None, "inputs"):
            raise ConfigurationError(
                f"task {self.name}: cache_policy must be None or 'inputs', got {cache_policy!r}")
        if cache_key_fn is not None and not callable(cache_key_fn):
            raise ConfigurationError(f"task {self.name}: cache_key_fn must be callable")
        self.cache_key_fn = cache_key_fn
        self.cache_policy = cache_policy
        if isinstance(cache_expiration, timedelta):
            cache_expiration = cache_expiration.total_seconds()
        if cache_expiration is not None and not cache_expiration > 0:
            raise ConfigurationError(f"task {self.name}: cache_expiration must be > 0")
        self.cache_expiration = cache_expiration
        self.refresh_cache = refresh_cache
        self.signature = inspect.signature(fn)
        self.is_async = inspect.iscoroutinefunction(fn)
        self.key = task_key(fn)
        self.options_json = json.dumps({
            "retries": retries,
            "retry_delays": self.retry_delays,
            "retry_jitter_factor": retry_jitter_factor,
            "timeout_seconds": timeout_seconds,
        })
        functools.update_wrapper(self, fn)
        register(self)

    def __repr__(self) -> str:
        return f"Task({self.name!r}, key={self.key!r})"

    def related(self, parent_flow_run_id: str | None) -> list[dict[str, str]]:
        """Related resources of this task's run events."""
        return run_related(task_name=self.name, kind="task",
                           parent_flow_run_id=parent_flow_run_id, tags=self.tags)

    # -- in process -----------------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run now, in this process, as a tracked task run (an async task: a coroutine)."""
        if self.is_async:
            return run_inline_async(self, args, kwargs)  # type: ignore[return-value]
        result: R = run_inline(self, args, kwargs)
        return result

    # -- on Celery queues -----------------------------------------------------------------

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> TaskFuture[R]:
        """Send a run to the task's queue (Celery's `.delay`)."""
        return self._send(args, kwargs)

    def apply_async(
        self,
        args: Sequence[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        *,
        countdown: float | None = None,
        eta: datetime | None = None,
        queue: str | None = None,
        priority: int | None = None,
    ) -> TaskFuture[R]:
        """Send a run with Celery's options: a delay, a start time, a queue, a priority."""
        if countdown is not None and eta is not None:
            raise ValueError("give countdown or eta, not both")
        if countdown is not None:
            eta = datetime.now(UTC) + timedelta(seconds=countdown)
        if eta is not None and eta.tzinfo is None:
            eta = eta.replace(tzinfo=UTC)
        return self._send(tuple(args or ()), dict(kwargs or {}), eta=eta, queue=queue,
                          priority=priority)

    def submit(self, *args: Any, wait_for: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        """Inside a flow: a run on the flow's task runner (threads by default), returning a
        future. Outside a flow: a background run on a worker, like `.delay()`."""
        from tasks_core.task_runners import current_runner

        runner = current_runner.get()
        if runner is not None:
            return runner.submit(self, args, kwargs, wait_for)
        if wait_for:
            for future in wait_for:
                future.wait()
        return self._send(args, kwargs)

    def map(self, *iterables: Iterable[Any], **unmapped: Any) -> list[Any]:
        """One run per input (zip of the iterables): on the flow's task runner inside a flow,
        else sent in chunks to the workers."""
        from tasks_core.task_runners import current_runner

        runner = current_runner.get()
        if runner is not None:
            return runner.map(self, iterables, unmapped)
        from tasks_core.engine.fanout import send_map

        return send_map(self, iterables, unmapped)

    def _send(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        eta: datetime | None = None,
        queue: str | None = None,
        priority: int | None = None,
    ) -> TaskFuture[R]:
        rt = get_runtime()
        parameters = bind_parameters(self.fn, self.signature, args, kwargs)
        params_json = dumps_parameters(self.name, parameters, rt.settings.parameters_max_bytes)
        queue = queue or self.queue or rt.settings.default_pool
        priority = self.priority if priority is None else priority
        run = new_run(self, params_json, state=StateName.SCHEDULED if eta else StateName.PENDING,
                      queue=queue, priority=priority, scheduled_time=eta)
        if eta is not None and eta > datetime.now(UTC):
            rt.store.create(run, due=eta)  # beat sends it when due (durable, never twice)
            return TaskFuture(run.id, self.name)
        envelope = Envelope.for_run(
            run.id, 1, queue=queue, name=self.name, argsrepr=params_json[:256],
            priority=priority, time_limit=self.hard_time_limit)
        push = rt.dispatcher.push_for(envelope)
        rt.store.create(run, push)
        if push is None:
            rt.dispatcher.publish(envelope)
        return TaskFuture(run.id, self.name)

    @property
    def hard_time_limit(self) -> float | None:
        """Celery's hard limit: a backstop a little after timeout_seconds."""
        return hard_time_limit(self.timeout_seconds)


@overload
def task(fn: Callable[P, R], /) -> Task[P, R]: ...


@overload
def task(
    *,
    name: str | None = None,
    description: str | None = None,
    retries: int = 0,
    retry_delay_seconds: RetryDelay = 0,
    retry_jitter_factor: float | None = None,
    timeout_seconds: float | None = None,
    tags: Iterable[str] | None = None,
    queue: str | None = None,
    priority: int = 0,
    log_prints: bool | None = None,
    cache_key_fn: Callable[..., str | None] | None = None,
    cache_policy: str | None = None,
    cache_expiration: timedelta | float | None = None,
    refresh_cache: bool = False,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(fn: Callable[P, R] | None = None, /, **options: Any) -> Any:
    """Make a function a task: ``@task`` or ``@task(retries=3, queue="io")``."""
    if fn is not None:
        return Task(fn, **options)
    return lambda f: Task(f, **options)
