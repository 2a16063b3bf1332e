"""Celery's ``self.request`` for bound tasks (``@task(bind=True)``): one per attempt.

A bound task's function gets its Task as first argument (Celery's user guide "Tasks",
*Bound tasks*); ``self.request`` is the running attempt's context (*Task Request*). It is
built from what the engine knows of the run when the attempt starts (`RequestInfo`, made
where the attempt's `Body` is made: a direct call, or a worker's claim), plus the attempt
number, and held in a context variable while the body runs, so it is right in threads of
a flow's task runner, in nested runs and on workers.

Pure: no I/O.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EMPTY", "Request", "RequestInfo", "bound_callable", "current_request"]


@dataclass(frozen=True, slots=True)
class Request:
    """The attempt of a task run that is executing (Celery's ``Task.request``).

    Attributes:
        id: the run id (Celery's task id).
        task: the task's name.
        retries: how many times it was retried before this attempt (attempt - 1).
        args, kwargs: the arguments the function was called with (without ``self``).
        delivery_info: ``{"routing_key": queue, "exchange": "", "priority": n,
            "redelivered": False}`` on a worker; empty for a direct call (no message).
        parent_id: the run that started it (a task run, else its flow run), None at the top.
        root_id: the top run of its tree (itself at the top).
        hostname: the host executing it.
        is_eager: executed in the calling process (a direct call), not from a queue.
        called_directly: False: a tracked run always has a request (Celery sets True only
            for a plain function call, which tasks-core does not have).
        timelimit: ``(time_limit, soft_time_limit)`` in seconds (None: none).
    """

    id: str | None = None
    task: str | None = None
    retries: int = 0
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    delivery_info: dict[str, Any] = field(default_factory=dict)
    parent_id: str | None = None
    root_id: str | None = None
    hostname: str | None = None
    is_eager: bool = False
    called_directly: bool = True
    timelimit: tuple[float | None, float | None] = (None, None)
    eta: str | None = None
    expires: str | None = None
    group: str | None = None
    callbacks: list[Any] | None = None
    errbacks: list[Any] | None = None
    headers: dict[str, Any] | None = None

    @property
    def correlation_id(self) -> str | None:
        """Celery's correlation id: the task id."""
        return self.id

    def get(self, key: str, default: Any = None) -> Any:
        """An attribute by name, or `default` (Celery's ``Context.get``)."""
        return getattr(self, key, default)


current_request: ContextVar[Request | None] = ContextVar("tasks_core_request", default=None)
"""The request of the bound task attempt executing in this context (None: none)."""


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What a run's attempts know of it before they start (all but the attempt number).

    Attributes:
        run_id, name: the run and its task's name.
        queue: the queue it came from (None: a direct call, no message).
        priority: its message priority.
        parent_id, root_id: see `Request`.
        hostname: this host.
        first_attempt: the attempt the first call of the body is.
        time_limit, soft_time_limit: the run's Celery limits (seconds, None: none).
    """

    run_id: str
    name: str
    queue: str | None
    priority: int = 0
    parent_id: str | None = None
    root_id: str | None = None
    hostname: str | None = None
    first_attempt: int = 1
    time_limit: float | None = None
    soft_time_limit: float | None = None

    def request(self, attempt: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Request:
        """The request of attempt `attempt` (1-based) called with `args`, `kwargs`."""
        delivery = ({"routing_key": self.queue, "exchange": "", "priority": self.priority,
                     "redelivered": False} if self.queue is not None else {})
        return Request(id=self.run_id, task=self.name, retries=attempt - 1, args=args,
                       kwargs=dict(kwargs), delivery_info=delivery, parent_id=self.parent_id,
                       root_id=self.root_id or self.run_id, hostname=self.hostname,
                       is_eager=self.queue is None, called_directly=False,
                       timelimit=(self.time_limit, self.soft_time_limit))


def bound_callable(fn: Callable[..., Any], task: Any, info: RequestInfo) -> Callable[..., Any]:
    """`fn` called as ``fn(task, *args, **kwargs)`` with ``task.request`` set: each call
    is one attempt (the first is `info.first_attempt`), so retries in the same process
    count up. An async `fn` gives an async callable."""
    attempts = [info.first_attempt - 1]

    def enter(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        attempts[0] += 1
        return current_request.set(info.request(attempts[0], args, kwargs))

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            token = enter(args, kwargs)
            try:
                return await fn(task, *args, **kwargs)
            finally:
                current_request.reset(token)

        return call_async

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        token = enter(args, kwargs)
        try:
            return fn(task, *args, **kwargs)
        finally:
            current_request.reset(token)

    return call


EMPTY = Request()
"""The request outside any attempt of the task (Celery's empty context:
``called_directly`` True, no id)."""
