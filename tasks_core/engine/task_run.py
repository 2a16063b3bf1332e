"""Task runs called directly, in this process: record -> (cache hit | attempts) -> value.

The function gets its arguments as they are (any Python object: nothing crosses a process);
the run records a JSON-safe rendering of them (`ParameterSpec.render`). Retries wait here.
The lifecycle (`engine.lifecycle`) decides and reports exactly as it does on a worker.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tasks_core.engine import new_runs
from tasks_core.engine.attempt import Body, call_attempt, call_attempt_async
from tasks_core.engine.caching import cache_key, cached_outcome, keep_result
from tasks_core.engine.celery_view import show
from tasks_core.engine.context import RunFrame, current_run
from tasks_core.engine.hooks import RunHooks
from tasks_core.engine.lifecycle import RunHandle, failsafe, run_attempts, run_attempts_async
from tasks_core.engine.limits import body_deadline
from tasks_core.engine.outcome import Complete, Decision, Fail
from tasks_core.engine.request import RequestInfo
from tasks_core.errors import FailedRun
from tasks_core.process_runtime import HOST, Runtime, get_runtime
from tasks_core.records import RunOptions
from tasks_core.states import StateName

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["run_task", "run_task_async", "task_body", "value_or_raise"]


def _start(rt: Runtime, task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any],
           run_id: str | None) -> tuple[RunHandle, Body]:
    """Record the run as starting now, here (buffered); its handle and its body."""
    parent = current_run.get()
    parameters = task.parameters.bind(args, kwargs)
    run_id = run_id or str(uuid.uuid4())
    key = cache_key(task, run_id, parameters) if task.caches else None
    options = new_runs.run_options(task, parent, cache_key=key)
    rendered = task.parameters.render(parameters, max_bytes=rt.settings.parameters_max_bytes)
    run = new_runs.task_run(task, rendered, options, parent, state=StateName.RUNNING,
                            owner=rt.owner, run_id=run_id)
    rt.reporter.create(run)
    options = run.options  # with the settings' global time limits
    frame = RunFrame(run_id, "task", parent.flow_run_id if parent else None,
                     options.log_prints, parent.root if parent else None)
    info = RequestInfo(run_id, task.name, None, parent_id=parent.run_id if parent else None,
                       root_id=frame.root, hostname=HOST, time_limit=options.time_limit,
                       soft_time_limit=options.soft_time_limit)
    body = task_body(task, args, kwargs, frame, info, options, store_result=False,
                     result_max_bytes=rt.settings.result_max_bytes)
    handle = RunHandle(run_id, "task", options, frame, hooks=RunHooks.of_record(task, run))
    show(handle, task.name, run.argsrepr, parent.run_id if parent else None)
    return handle, body


def task_body(task: Task[Any, Any], args: Any, kwargs: dict[str, Any], frame: RunFrame,
              info: RequestInfo, options: RunOptions, *, store_result: bool,
              result_max_bytes: int) -> Body:
    """What each attempt of a run of `task` calls, with the run's limits (`engine.limits`):
    in process, or on a worker (`store_result`)."""
    seconds, soft = body_deadline(options)
    return Body(task.attempt_fn(info), args, kwargs, frame=frame, owner=f"task {task.name!r}",
                timeout_seconds=seconds, soft=soft, store_result=store_result,
                result_max_bytes=result_max_bytes, ignore_result=options.ignore_result)


def value_or_raise(decision: Decision, run_id: str) -> Any:
    """The value of a completed run, else its exception (the body's own, when known)."""
    if isinstance(decision, Complete):
        return decision.value
    if isinstance(decision, Fail) and decision.exc is not None:
        raise decision.exc
    message = decision.message if isinstance(decision, Fail) else "not finished"
    raise FailedRun(f"run {run_id} ended: {message}", run_id=run_id)


def run_task(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], *,
             run_id: str | None = None) -> Any:
    """Run `task` now, here, as a tracked run; its value, or its exception raised."""
    rt = get_runtime()
    handle, body = _start(rt, task, args, kwargs, run_id)
    with failsafe(rt, handle, 1, reraise=True):
        decision: Decision | None = cached_outcome(rt, handle, 1, task.return_type)
        if decision is None:
            decision = run_attempts(rt, handle, lambda: call_attempt(body))
            keep_result(rt, handle, decision)
    assert decision is not None  # failsafe re-raises: an engine error never reaches here
    return value_or_raise(decision, handle.run_id)


async def run_task_async(task: Task[Any, Any], args: tuple[Any, ...],
                         kwargs: dict[str, Any], *, run_id: str | None = None) -> Any:
    """`run_task` for an async task, awaited on the caller's event loop."""
    rt = get_runtime()
    handle, body = _start(rt, task, args, kwargs, run_id)
    with failsafe(rt, handle, 1, reraise=True):
        decision: Decision | None = cached_outcome(rt, handle, 1, task.return_type)
        if decision is None:
            decision = await run_attempts_async(rt, handle, lambda: call_attempt_async(body))
            keep_result(rt, handle, decision)
    assert decision is not None  # failsafe re-raises: an engine error never reaches here
    return value_or_raise(decision, handle.run_id)
