"""One attempt of a run's body: enter the run's context, call, time it, settle the result.

`call_attempt` (sync) and `call_attempt_async` (awaited on the caller's loop) share
everything but the call itself. Neither raises for an `Exception` from the body: it becomes
an `Ended` failure. Other exceptions (KeyboardInterrupt, SystemExit, a cancelled task)
pass through to the lifecycle's crash guard.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from contextvars import Token
from dataclasses import KW_ONLY, dataclass
from typing import Any

from celery.exceptions import Retry

from tasks_core.engine.context import RunFrame, current_run
from tasks_core.engine.outcome import Ended
from tasks_core.engine.result_files import stored_json
from tasks_core.engine.results import encode_result, render_result
from tasks_core.engine.returned_state import settle_returned
from tasks_core.engine.stopping import cancellable
from tasks_core.engine.timeouts import deadline
from tasks_core.errors import ResultError, TaskCancelled, TaskTimeout, UpstreamFailed
from tasks_core.run_logging import install_print_capture

__all__ = ["Body", "call_attempt", "call_attempt_async"]


@dataclass(frozen=True, slots=True)
class Body:
    """What an attempt calls: `fn(*args, **kwargs)` as the run `frame`, with its limits.

    Attributes:
        owner: how result errors name the run (``task 'add'``).
        timeout_seconds: the attempt's deadline (None: none).
        store_result: the result must be stored (it crosses processes: worker runs); when it
            cannot be, the attempt fails. Otherwise (in process) the value is returned as is
            and recorded only when it can be.
        result_max_bytes: the largest stored result.
        soft: `timeout_seconds` is Celery's soft_time_limit: a body that catches the
            `SoftTimeLimitExceeded` and returns succeeds.
        ignore_result: Celery's ignore_result: the value is returned to an in-process
            caller but never stored.
        result_storage: a folder where a larger result is written instead
            (`engine.result_files`); None: a larger result is refused.
    """

    fn: Callable[..., Any]
    args: Any
    kwargs: dict[str, Any]
    _: KW_ONLY
    frame: RunFrame
    owner: str
    timeout_seconds: float | None
    store_result: bool
    result_max_bytes: int
    soft: bool = False
    ignore_result: bool = False
    result_storage: str | None = None


def _enter(body: Body) -> Token[RunFrame | None]:
    if body.frame.log_prints:
        install_print_capture()
    return current_run.set(body.frame)


def _failed(body: Body, exc: Exception, started: float) -> Ended:
    """How a body that raised ended: timed out when its own deadline interrupted it,
    cancelled when its own cancellation stopped it."""
    elapsed = time.monotonic() - started
    limit = body.timeout_seconds
    own = isinstance(exc, TaskTimeout) and limit is not None and elapsed >= limit - 0.01
    stopped = isinstance(exc, TaskCancelled) and exc.run_id == body.frame.run_id
    if isinstance(exc, Retry):  # Celery's self.retry(): retry at the time it names
        when = exc.when if exc.when is not None else -1.0  # -1: default_retry_delay
        named = exc.exc if isinstance(exc.exc, BaseException) else exc
        return Ended.failure(named, elapsed=elapsed, retry_when=when)
    return Ended.failure(exc, elapsed=elapsed, timed_out=own, cancelled=stopped,
                         retryable=not isinstance(exc, UpstreamFailed))


def _settle(body: Body, value: Any, started: float) -> Ended:
    elapsed = time.monotonic() - started
    value, ended = settle_returned(value, elapsed)  # a returned State ends the run so
    if ended is not None:
        return ended
    if body.ignore_result:  # not stored, but handed on to a chain's next step or a link
        # (Celery passes the value itself): its JSON when it has one
        text_or_none, _ = render_result(value, body.result_max_bytes)
        return Ended(ok=True, value=value, result_json=text_or_none,
                     note="not stored (ignore_result=True)", elapsed=elapsed)
    if body.store_result or body.result_storage is not None:
        try:
            text = (encode_result(body.owner, value, body.result_max_bytes)
                    if body.result_storage is None else
                    stored_json(body.owner, value, body.result_max_bytes, body.result_storage,
                                body.frame.run_id))
        except ResultError as exc:
            if body.store_result:
                return Ended.failure(exc, elapsed=elapsed, retryable=False)
            return Ended(ok=True, value=value, note=f"result not stored: {exc}",
                         elapsed=elapsed)
        return Ended(ok=True, value=value, result_json=text, elapsed=elapsed)
    text_or_none, note = render_result(value, body.result_max_bytes)
    return Ended(ok=True, value=value, result_json=text_or_none, note=note, elapsed=elapsed)


async def _await_within(awaitable: Awaitable[Any], seconds: float | None) -> Any:
    if seconds is None:
        return await awaitable
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise TaskTimeout(f"timed out after {seconds:g}s") from None


async def _await_cancellable(awaitable: Awaitable[Any], seconds: float | None,
                             run_id: str) -> Any:
    """`_await_within` as the loop's task, so a cancel request cancels it there (from the
    thread outside, it would wait until the loop's blocking select returns)."""
    with cancellable(run_id):
        return await _await_within(awaitable, seconds)


def call_attempt(body: Body) -> Ended:
    """Run the body once, here (an async body on a new event loop); how it ended."""
    token = _enter(body)
    started = time.monotonic()
    try:
        with deadline(body.timeout_seconds, strict=not body.soft), \
                cancellable(body.frame.run_id):
            value = body.fn(*body.args, **body.kwargs)
            if inspect.isawaitable(value):
                value = asyncio.run(_await_cancellable(value, body.timeout_seconds,
                                                       body.frame.run_id))
    except Exception as exc:
        return _failed(body, exc, started)
    finally:
        current_run.reset(token)
    return _settle(body, value, started)


async def call_attempt_async(body: Body) -> Ended:
    """Await the (async) body once on the caller's loop; how it ended."""
    token = _enter(body)
    started = time.monotonic()
    try:
        with cancellable(body.frame.run_id):
            value = await _await_within(body.fn(*body.args, **body.kwargs),
                                        body.timeout_seconds)
    except Exception as exc:
        return _failed(body, exc, started)
    finally:
        current_run.reset(token)
    return _settle(body, value, started)
