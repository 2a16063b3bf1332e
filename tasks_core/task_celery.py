"""Celery's Task methods on tasks-core's Task: ``request``, ``retry``, ``update_state`` and
the handler methods a ``base=`` subclass overrides.

Semantics are Celery's (docs.celeryq.dev, user guide "Tasks": *Bound tasks*, *Task
Request*, *Retrying*, *Custom states*, *Handlers*); the differences are tasks-core's ledger:

- ``self.retry()`` raises Celery's own `celery.exceptions.Retry`; the engine records it
  as a retry of the same run (AwaitingRetry, then the next attempt of that run at the
  countdown or eta), never a new task. Past `max_retries` it raises `exc` (or Celery's
  `MaxRetriesExceededError`) and the run ends Failed.
- ``self.update_state(state=, meta=)`` stores `celery_state` and `celery_meta` on the
  running run's record (`RunStore.set_celery_state`); the run's own state stays Running.
- Handlers (``on_success``, ``on_failure``, ``on_retry``, ``after_return``) overridden on
  a ``base=`` subclass are called like Celery's, on every path (`engine.task_handlers`).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery.exceptions import MaxRetriesExceededError, Retry

from tasks_core.engine.request import EMPTY, Request, current_request
from tasks_core.errors import ConfigurationError, ValidationError

__all__ = ["CeleryTaskMethods", "unbound_view"]

log = logging.getLogger("tasks_core.task")

META_MAX_BYTES = 64 * 1024
"""Largest ``update_state`` meta (JSON bytes)."""


def unbound_view(fn: Callable[..., Any], owner: str) -> Callable[..., Any]:
    """A stand-in of a bound task's function without its first parameter (``self``): the
    signature and hints its parameters are bound, validated and recorded by. Never called.

    Raises:
        ConfigurationError: the function has no first positional parameter to bind.
    """
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    if not params or params[0].kind not in (inspect.Parameter.POSITIONAL_ONLY,
                                            inspect.Parameter.POSITIONAL_OR_KEYWORD):
        raise ConfigurationError(f"{owner}: bind=True needs a first parameter for the task "
                                 "(def fn(self, ...))")

    @functools.wraps(fn)
    def view(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
        raise TypeError("a signature stand-in")

    view.__signature__ = signature.replace(parameters=params[1:])  # type: ignore[attr-defined]
    view.__annotations__ = {k: v for k, v in getattr(fn, "__annotations__", {}).items()
                            if k != params[0].name}
    return view


class CeleryTaskMethods:
    """Celery's Task API on a tasks-core Task (mixed into `tasks_core.task.Task`)."""

    name: str
    max_retries: int | None = 3
    default_retry_delay: float = 180.0
    MaxRetriesExceededError = MaxRetriesExceededError

    @property
    def request(self) -> Request:
        """The executing attempt's request (Celery's ``Task.request``); outside an attempt
        of a bound task, an empty one (``called_directly`` True, ``id`` None)."""
        found = current_request.get()
        return found if found is not None and found.task == self.name else EMPTY

    def retry(self, args: Any = None, kwargs: Any = None, exc: BaseException | None = None,
              throw: bool = True, eta: datetime | None = None,
              countdown: float | None = None, max_retries: int | None = None,
              **options: Any) -> Retry:
        """Retry this run (Celery's ``Task.retry``): raises `celery.exceptions.Retry`,
        which the engine records as AwaitingRetry of the same run, its next attempt
        `countdown` seconds later (or at `eta`; neither: `default_retry_delay`).

        Raises:
            Retry: always, when retries are left (catch it only to re-raise it).
            BaseException: `exc` itself once `max_retries` (this call's, else the task's;
                None: forever) retries were made; without `exc`, Celery's
                MaxRetriesExceededError. The run then ends Failed.
            RuntimeError: called outside a running attempt of this task.
            ConfigurationError: new `args` / `kwargs`, ``throw=False`` or other options
                (a retry is the same run with the same parameters).
        """
        request = self.request
        if request.id is None:
            raise RuntimeError(f"task {self.name!r}: retry() is only for inside a running "
                               "attempt of a bound task (@task(bind=True))")
        if args is not None or kwargs is not None or not throw or options:
            given = ["args"] * (args is not None) + ["kwargs"] * (kwargs is not None) + \
                ["throw=False"] * (not throw) + sorted(options)
            raise ConfigurationError(f"task {self.name!r}: retry({', '.join(given)}) is not "
                                     "supported: a retry is the same run, with its parameters")
        limit = self.max_retries if max_retries is None else max_retries
        if limit is not None and request.retries + 1 > limit:
            if exc is not None:
                raise exc
            raise self.MaxRetriesExceededError(
                f"Can't retry {self.name}[{request.id}] args:{request.args} "
                f"kwargs:{request.kwargs}")
        when: float | datetime | None = eta
        if when is None:
            when = self.default_retry_delay if countdown is None else countdown
        raise Retry(exc=exc, when=when)

    def update_state(self, task_id: str | None = None, state: str | None = None,
                     meta: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Store a custom state and its meta on a running run (Celery's
        ``Task.update_state``): the record's `celery_state` and `celery_meta`, which
        `AsyncResult.state` / `.info` show while it runs. `task_id` defaults to this
        attempt's run.

        Raises:
            ValidationError: `state` is not a non-empty string of up to 100 characters,
                or `meta` is not a JSON-encodable dict (up to 64 KiB).
            RuntimeError: no `task_id` and not inside a running attempt.
        """
        from tasks_core.process_runtime import get_runtime

        run_id = task_id or self.request.id
        if run_id is None:
            raise RuntimeError(f"task {self.name!r}: update_state() needs task_id outside "
                               "a running attempt of a bound task")
        if not isinstance(state, str) or not 0 < len(state) <= 100:
            raise ValidationError(f"update_state: state must be a string of 1-100 "
                                  f"characters, got {state!r}")
        text = _meta_json(meta)
        rt = get_runtime()
        stored = rt.store.set_celery_state(run_id, state, text)
        if stored < 0:  # a run started here is created by the reporter: write it first
            rt.reporter.flush(timeout=5)
            stored = rt.store.set_celery_state(run_id, state, text)
        if stored < 1:
            log.warning("run %s: update_state(%r) ignored: the run is not running",
                        run_id, state)

    # Celery's handlers: no-ops unless a base= subclass overrides them (Celery's
    # on_failure is overridden the same way; undefined, it is tasks-core's hook decorator).

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        """Called once when a run completes (Celery's handler); override in a subclass."""

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                 einfo: Any) -> None:
        """Called when a run will be retried (Celery's handler); override in a subclass."""

    def after_return(self, status: str, retval: Any, task_id: str, args: Any, kwargs: Any,
                     einfo: Any) -> None:
        """Called once after a run ends (Celery's handler); override in a subclass."""


def _meta_json(meta: Any) -> str:
    if meta is None:
        return "{}"
    if not isinstance(meta, dict):
        raise ValidationError(f"update_state: meta must be a dict, got {type(meta).__name__}")
    try:
        text = json.dumps(meta, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"update_state: meta must be JSON-encodable: {exc}") from None
    if len(text.encode()) > META_MAX_BYTES:
        raise ValidationError(f"update_state: meta is {len(text.encode())} bytes as JSON, "
                              f"over the {META_MAX_BYTES} allowed")
    return text
