"""The task-run engine: begin -> call -> success | retry | failure | timeout.

`call_once` runs one attempt and classifies its outcome; `run_inline` drives a direct call in
this process (retries sleep here); the worker drives claimed runs with `finish_on_worker`
(retries go back on the queue). All state writes go through the batched reporter.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import random
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from tasks_core.engine.params import bind_parameters, dumps_parameters
from tasks_core.engine.timeouts import deadline
from tasks_core.errors import ResultError, TaskTimeout
from tasks_core.records import ErrorInfo
from tasks_core.runtime import get_runtime
from tasks_core.states import StateName
from tasks_core.store.runs import NewRun, Transition, utcnow

if TYPE_CHECKING:
    from tasks_core.task import Task


class Runnable(Protocol):
    """What the engine needs of a task or a flow."""

    fn: Callable[..., Any]
    name: str
    timeout_seconds: float | None
    retries: int
    retry_delays: list[float]
    retry_jitter_factor: float | None

__all__ = [
    "AttemptResult",
    "RunFrame",
    "Runnable",
    "call_once",
    "current_run",
    "drive_attempts",
    "drive_attempts_async",
    "error_info",
    "new_run",
    "outcome_transition",
    "retry_delay",
    "retry_transition",
    "run_inline",
    "run_inline_async",
]


@dataclass(frozen=True, slots=True)
class RunFrame:
    """The run executing in this context, so that nested runs can link to it.

    `log_prints` says whether print() in this context is captured into the run's logs; it
    is resolved when an attempt starts (see `call_once`).
    """

    run_id: str
    kind: str = "task"
    flow_run_id: str | None = None
    log_prints: bool = False


current_run: ContextVar[RunFrame | None] = ContextVar("tasks_core_current_run", default=None)


@dataclass(slots=True)
class AttemptResult:
    """How one attempt ended."""

    ok: bool
    value: Any = None
    result_json: str | None = None
    error: ErrorInfo | None = None
    exc: BaseException | None = None
    timed_out: bool = False
    retryable: bool = True


def error_info(exc: BaseException) -> ErrorInfo:
    """The exception as recorded on a run: importable type name, message, traceback."""
    cls = type(exc)
    module = cls.__module__
    name = cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
    text = "".join(traceback.format_exception(cls, exc, exc.__traceback__))
    return ErrorInfo(type=name, message=str(exc), traceback=text[-20_000:])


def _failed(
    exc: BaseException, *, timed_out: bool = False, retryable: bool = True
) -> AttemptResult:
    return AttemptResult(ok=False, error=error_info(exc), exc=exc, timed_out=timed_out,
                         retryable=retryable)


def encode_result(task_name: str, value: Any, max_bytes: int) -> str:
    """The return value as JSON; ResultError when it is not JSON or too large."""
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ResultError(
            f"result of {task_name} is not JSON-serialisable ({type(value).__name__}: {exc}); "
            "return plain data (str, int, float, bool, None, list, dict)"
        ) from None
    if len(text) > max_bytes:
        raise ResultError(
            f"result of {task_name} is {len(text)} bytes of JSON, over the limit of {max_bytes} "
            "(TASKS_CORE_RESULT_MAX_BYTES); store large data elsewhere and return a reference"
        )
    return text


async def _await_with_timeout(awaitable: Awaitable[Any], seconds: float | None) -> Any:
    if seconds is None:
        return await awaitable
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise TaskTimeout(f"timed out after {seconds:g}s") from None


def call_once(
    task: Runnable,
    frame: RunFrame,
    args: Any,
    kwargs: dict[str, Any],
    *,
    store: bool,
    invoke: Callable[..., Any] | None = None,
) -> AttemptResult:
    """Run one attempt of `task` (sync or async) and classify how it ended.

    With `store`, a result that cannot be stored fails the attempt (worker runs, where the
    stored result is the only way back); otherwise it is kept only when it can be.
    """
    frame = _with_log_prints(task, frame)
    token = current_run.set(frame)
    try:
        with deadline(task.timeout_seconds):
            value = (invoke or task.fn)(*args, **kwargs)
            if inspect.isawaitable(value):
                value = asyncio.run(_await_with_timeout(value, task.timeout_seconds))
    except TaskTimeout as exc:
        return _failed(exc, timed_out=True)
    except Exception as exc:
        return _failed(exc)
    finally:
        current_run.reset(token)
    return settle(task, value, store=store)


async def call_once_async(
    task: Runnable,
    frame: RunFrame,
    args: Any,
    kwargs: dict[str, Any],
    *,
    invoke: Callable[..., Any] | None = None,
    store: bool = False,
) -> AttemptResult:
    """`call_once` for async functions: awaited on the caller's loop (asyncio.timeout)."""
    frame = _with_log_prints(task, frame)
    token = current_run.set(frame)
    try:
        value = await _await_with_timeout((invoke or task.fn)(*args, **kwargs),
                                          task.timeout_seconds)
    except TaskTimeout as exc:
        return _failed(exc, timed_out=True)
    except Exception as exc:
        return _failed(exc)
    finally:
        current_run.reset(token)
    return settle(task, value, store=store)


def _with_log_prints(task: Runnable, frame: RunFrame) -> RunFrame:
    """The frame with `log_prints` resolved: the run's own option, else the enclosing run's.

    Called before the frame is entered, so `current_run` is still the enclosing run (the
    flow a task runs in, also in thread-pool threads, which copy the flow's context).
    """
    own: bool | None = getattr(task, "log_prints", None)  # None: inherit
    enclosing = current_run.get()
    value = own if own is not None else bool(enclosing and enclosing.log_prints)
    if value:
        from tasks_core.run_logging import install_print_capture  # run_logging imports us

        install_print_capture()
    return frame if value == frame.log_prints else replace(frame, log_prints=value)


def settle(task: Runnable, value: Any, *, store: bool) -> AttemptResult:
    """A successful attempt's result, encoded for storage."""
    max_bytes = get_runtime().settings.result_max_bytes
    try:
        return AttemptResult(ok=True, value=value, result_json=encode_result(task.name, value,
                                                                             max_bytes))
    except ResultError as exc:
        if store:
            return _failed(exc, retryable=False)
        return AttemptResult(ok=True, value=value, error=error_info(exc))


def retry_delay(task: Runnable, attempt: int, result: AttemptResult) -> float | None:
    """Seconds before the next attempt, or None when this failure is final."""
    if not result.retryable or attempt > task.retries:
        return None
    delays = task.retry_delays or [0.0]
    delay = delays[min(attempt - 1, len(delays) - 1)]
    if task.retry_jitter_factor:
        delay += random.uniform(0, task.retry_jitter_factor * delay)
    return delay


def outcome_transition(run_id: str, attempt: int, result: AttemptResult) -> Transition:
    """The final transition of an attempt that will not be retried."""
    if result.ok:
        fields = {}
        message = ""
        if result.result_json is not None:
            fields = {"result_ref": get_runtime().store.keys.result(run_id),
                      "result_size": str(len(result.result_json))}
        elif result.error is not None:
            message = f"result not stored: {result.error.message}"
        return Transition(run_id, StateName.COMPLETED, message=message, fields=fields,
                          result_json=result.result_json)
    assert result.error is not None
    target = StateName.TIMED_OUT if result.timed_out else StateName.FAILED
    return Transition(
        run_id,
        target,
        message=f"{result.error.type}: {result.error.message}"[:500],
        fields={"error": result.error.model_dump_json()},
    )


def retry_transition(run_id: str, result: AttemptResult, delay: float) -> Transition:
    """AwaitingRetry, with the time of the next attempt."""
    assert result.error is not None
    when = utcnow() + timedelta(seconds=delay)
    return Transition(
        run_id,
        StateName.AWAITING_RETRY,
        message=f"retrying in {delay:.3g}s after {result.error.type}: {result.error.message}"[:500],
        fields={"scheduled_time": when.isoformat(), "error": result.error.model_dump_json()},
    )


def new_run(
    task: Task[Any, Any],
    parameters_json: str,
    *,
    state: StateName,
    queue: str | None = None,
    priority: int = 0,
    scheduled_time: datetime | None = None,
    extra: dict[str, str] | None = None,
) -> NewRun:
    """A task run record for `task`, linked to the run executing in this context."""
    parent = current_run.get()
    fields = {
        "name": task.name,
        "task_key": task.key,
        "parameters": parameters_json,
        "tags": json.dumps(task.tags),
        "options": task.options_json,
        "queue": queue or "",
        "priority": str(priority),
        "attempt": "0",
        "parent_task_run_id": parent.run_id if parent and parent.kind == "task" else "",
        "parent_flow_run_id": (parent.run_id if parent.kind == "flow" else parent.flow_run_id or "")
        if parent else "",
        "scheduled_time": scheduled_time.isoformat() if scheduled_time else "",
    }
    if extra:
        fields.update(extra)
    return NewRun(
        id=str(uuid.uuid4()),
        kind="task",
        fields=fields,
        state=state,
        related=task.related(fields["parent_flow_run_id"] or None),
    )


def run_inline(
    task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], *,
    run_id: str | None = None,
) -> Any:
    """Run `task` now in this process as a tracked run; return its value or raise its error."""
    frame, key = begin_task_run(task, args, kwargs, run_id=run_id)
    cached = _cache_hit(frame, key, task)
    if cached is not None:
        return cached[0]
    return _finish_cached(task, key, drive_attempts(task, frame, args, kwargs))


async def run_inline_async(task: Task[Any, Any], args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
    """`run_inline` for an async task, awaited on the caller's event loop."""
    frame, key = begin_task_run(task, args, kwargs)
    cached = _cache_hit(frame, key, task)
    if cached is not None:
        return cached[0]
    return _finish_cached(task, key, await drive_attempts_async(task, frame, args, kwargs))


def _cache_hit(frame: RunFrame, key: str | None, task: Task[Any, Any]) -> tuple[Any] | None:
    """On a cache hit, end the run Cached with the stored value and return (value,)."""
    if key is None or task.refresh_cache:
        return None
    from tasks_core.engine.caching import lookup

    text = lookup(key)
    if text is None:
        return None
    rt = get_runtime()
    rt.reporter.transition(Transition(
        frame.run_id, StateName.CACHED, message=f"cache hit ({key[:16]})",
        result_json=text, fields={"result_ref": rt.store.keys.result(frame.run_id),
                                  "result_size": str(len(text)), "cache_key": key}),
        urgent=True)
    return (json.loads(text),)


def _finish_cached(task: Task[Any, Any], key: str | None, result: AttemptResult) -> Any:
    """Keep a successful result under its cache key; the value, or raise the error."""
    if key is not None and result.ok and result.result_json is not None:
        from tasks_core.engine.caching import remember

        remember(key, result.result_json, task.cache_expiration)
    return _value_or_raise(result)


def _value_or_raise(result: AttemptResult) -> Any:
    if result.ok:
        return result.value
    assert result.exc is not None
    raise result.exc


def begin_task_run(
    task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], *,
    run_id: str | None = None,
) -> tuple[RunFrame, str | None]:
    """Record a task run starting now in this process (buffered); its frame and cache key."""
    rt = get_runtime()
    parameters = bind_parameters(task.fn, task.signature, args, kwargs)
    params_json = dumps_parameters(task.name, parameters, rt.settings.parameters_max_bytes)
    now = utcnow()
    run = new_run(task, params_json, state=StateName.RUNNING, extra={
        "attempt": "1", "owner": rt.owner, "worker": rt.owner.split(":")[0],
        "start_time": now.isoformat()})
    run.created = now
    if run_id is not None:
        run.id = run_id
    rt.reporter.create(run)
    parent = current_run.get()
    key = None
    if task.cache_key_fn is not None or task.cache_policy is not None:
        from tasks_core.engine.caching import cache_key

        key = cache_key(task, run.id, parameters)
    return RunFrame(run.id, "task", parent.flow_run_id if parent else None), key


def drive_attempts(
    runnable: Runnable,
    frame: RunFrame,
    args: Any,
    kwargs: dict[str, Any],
    *,
    invoke: Callable[..., Any] | None = None,
    store: bool = False,
) -> AttemptResult:
    """Attempt a run in this process until it succeeds or its retries are spent.

    Reports AwaitingRetry/Retrying between attempts (sleeping here) and the final state;
    returns how the last attempt ended. With `store`, a value that cannot be stored fails
    the run (flows: their result is what callers and run_deployment read back).
    """
    attempt = 1
    while True:
        with crash_guard(frame):
            result = call_once(runnable, frame, args, kwargs, store=store, invoke=invoke)
        delay = after_attempt(runnable, frame, attempt, result)
        if delay is None:
            return result
        time.sleep(delay)
        attempt += 1
        begin_retry(frame, attempt)


async def drive_attempts_async(
    runnable: Runnable,
    frame: RunFrame,
    args: Any,
    kwargs: dict[str, Any],
    *,
    invoke: Callable[..., Any] | None = None,
    store: bool = False,
) -> AttemptResult:
    """`drive_attempts` for async functions, on the caller's event loop."""
    attempt = 1
    while True:
        with crash_guard(frame):
            result = await call_once_async(runnable, frame, args, kwargs, invoke=invoke,
                                           store=store)
        delay = after_attempt(runnable, frame, attempt, result)
        if delay is None:
            return result
        await asyncio.sleep(delay)
        attempt += 1
        begin_retry(frame, attempt)


@contextmanager
def crash_guard(frame: RunFrame) -> Iterator[None]:
    """A run interrupted by an exception that is not an Exception (KeyboardInterrupt,
    SystemExit, a cancelled task) ends Crashed, written before the exception goes on."""
    try:
        yield
    except BaseException as exc:
        rt = get_runtime()
        crashed = Transition(frame.run_id, StateName.CRASHED, kind=frame.kind,
                             message=f"interrupted by {type(exc).__name__}: {exc}"[:500],
                             fields={"error": error_info(exc).model_dump_json()})
        rt.reporter.transition(crashed, urgent=True)
        rt.reporter.flush(timeout=5)
        raise


def after_attempt(
    runnable: Runnable, frame: RunFrame, attempt: int, result: AttemptResult
) -> float | None:
    """Report how an attempt ended: its final state (None), or AwaitingRetry (the delay)."""
    rt = get_runtime()
    delay = None if result.ok else retry_delay(runnable, attempt, result)
    if delay is None:
        final = outcome_transition(frame.run_id, attempt, result)
        final.kind = frame.kind
        rt.reporter.transition(final, urgent=True)
        return None
    waiting = retry_transition(frame.run_id, result, delay)
    waiting.kind = frame.kind
    rt.reporter.transition(waiting)
    return delay


def begin_retry(frame: RunFrame, attempt: int) -> None:
    """Report the start of attempt `attempt` (Retrying)."""
    get_runtime().reporter.transition(Transition(
        frame.run_id, StateName.RETRYING, kind=frame.kind, fields={"attempt": str(attempt)}))
