"""`@flow`: definitions only (options, the direct call). Deployments come with issue 4.

Calling a flow runs it now, in this process, as a tracked flow run; a flow called from a
flow (or a task) is a nested flow run linked to its parent through a placeholder task run.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, ParamSpec, TypeVar, overload

from tasks_core.deployment_models import Deployment
from tasks_core.engine.flow_run import run_flow, run_flow_async
from tasks_core.engine.hooks import FlowHookMethods, Hook, hook_set
from tasks_core.engine.outcome import Complete, Decision, Fail
from tasks_core.engine.parameters import ParameterSpec, return_annotation
from tasks_core.engine.task_run import value_or_raise
from tasks_core.engine.views import RunState
from tasks_core.errors import ConfigurationError
from tasks_core.records import RunOptions
from tasks_core.states import StateName
from tasks_core.task import RetryDelay, _log_prints, _retry_delays
from tasks_core.task_runners import TaskRunner, ThreadPoolTaskRunner, current_runner

__all__ = ["Flow", "FlowState", "flow"]

P = ParamSpec("P")
R = TypeVar("R")


FlowState = RunState
"""The final state of a flow run, returned by ``my_flow(..., return_state=True)``: a
`RunState` (the same object state change hooks get)."""


class Flow(FlowHookMethods, Generic[P, R]):
    """A function tracked as flow runs; tasks and flows it calls become its children.

    State change hooks (`on_completion`, `on_failure`, `on_crashed`, `on_cancellation`,
    and `on_running` as each attempt starts): lists of callables, each called
    ``hook(flow, flow_run, state)``, on every path (a direct call, sync or async, a nested
    flow, a deployment's flow run on a worker, a crash found by recovery); see
    `tasks_core.engine.hooks`. They can also be added with ``@my_flow.on_failure``.
    """

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        version: str | None = None,
        description: str | None = None,
        retries: int = 0,
        retry_delay_seconds: RetryDelay = 0,
        retry_jitter_factor: float | None = None,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        tags: Iterable[str] | None = None,
        task_runner: TaskRunner | None = None,
        log_prints: bool | None = None,
        on_completion: Iterable[Hook] | None = None,
        on_failure: Iterable[Hook] | None = None,
        on_crashed: Iterable[Hook] | None = None,
        on_cancellation: Iterable[Hook] | None = None,
        on_running: Iterable[Hook] | None = None,
    ) -> None:
        if not callable(fn):
            raise ConfigurationError(f"@flow needs a function, got {fn!r}")
        self.fn = fn
        self.name = name or fn.__name__.replace("_", "-")
        self.version = version
        self.description = description or inspect.getdoc(fn)
        if retries < 0:
            raise ConfigurationError(f"flow {self.name}: retries must be >= 0, got {retries}")
        self.retries = retries
        self.retry_delays = _retry_delays(self.name, retries, retry_delay_seconds)
        self.retry_jitter_factor = retry_jitter_factor
        if timeout_seconds is not None and not timeout_seconds > 0:
            raise ConfigurationError(f"flow {self.name}: timeout_seconds must be > 0")
        self.timeout_seconds = timeout_seconds
        self.tags = sorted(set(tags or ()))
        self.task_runner = task_runner or ThreadPoolTaskRunner()
        # print() in the flow and its tasks captured into run logs; None inherits it from
        # the parent flow (a top-level flow: off)
        self.log_prints = _log_prints("flow", self.name, log_prints)
        self.hooks = hook_set(f"flow {self.name!r}", on_completion=on_completion,
                              on_failure=on_failure, on_crashed=on_crashed,
                              on_cancellation=on_cancellation, on_running=on_running)
        self.is_async = inspect.iscoroutinefunction(fn)
        self._deploy_from: dict[str, Any] | None = None  # set by from_source
        self.parameters = ParameterSpec(fn, owner=f"flow {self.name!r}",
                                        validate=validate_parameters)
        self.signature = self.parameters.signature
        self.return_type = return_annotation(fn)
        self.options = RunOptions(retries=retries, retry_delays=self.retry_delays,
                                  retry_jitter_factor=retry_jitter_factor,
                                  timeout_seconds=timeout_seconds)
        functools.update_wrapper(self, fn)

    def __repr__(self) -> str:
        return f"Flow({self.name!r})"

    @classmethod
    def from_source(cls, source: str, entrypoint: str, *, ref: str | None = None) -> Flow[Any, Any]:
        """The flow at `entrypoint` in `source` (a folder or a git URL, at `ref`), ready to
        `.deploy()`: workers fetch the source (cached per commit) and load it at run time."""
        from tasks_core.engine.entrypoints import load_flow
        from tasks_core.engine.sources import materialize
        from tasks_core.process_runtime import get_runtime

        folder, _ = materialize(source, ref, get_runtime().settings.data_dir)
        loaded = load_flow(entrypoint, str(folder), flow_type=cls)
        loaded._deploy_from = {"source": source, "entrypoint": entrypoint, "source_ref": ref}
        return loaded

    def deploy(self, name: str, work_pool_name: str | None = None, **options: Any) -> str:
        """Register a deployment of this flow (create or update); its id.

        Options: work_queue_name, parameters, cron (a string or Celery's ``crontab(...)``) |
        interval | rrule | schedules, timezone
        (local times follow Vixie cron across daylight saving changes), catchup ("skip",
        "latest" (default) or "all": which scheduled runs missed by more than
        `catchup_grace_seconds` still run), tags, triggers, paused, description, version,
        entrypoint, source. ConfigurationError names a bad schedule.
        """
        from tasks_core.deployments import deploy_flow

        origin = self._deploy_from or {}
        return deploy_flow(self, name, work_pool_name=work_pool_name, **{**origin, **options})

    def to_deployment(self, name: str, **options: Any) -> Deployment:
        """A deployment of this flow, not registered yet: pass it to `deploy()` or `serve()`."""
        from tasks_core.deployment_models import slugify
        from tasks_core.deployments import build_deployment

        return build_deployment(self, slugify(name), **{**(self._deploy_from or {}), **options})

    def serve(self, name: str, *, stop: threading.Event | None = None, **options: Any) -> None:
        """Deploy on a pool of its own (unless `work_pool_name` is given) and run a worker and
        a beat for it until interrupted."""
        from tasks_core.deployments import serve

        options.setdefault("work_pool_name", f"serve-{self.name}")
        serve(self.to_deployment(name, **options), stop=stop)

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        """One attempt of the flow body, with its own task runner; waits for its futures."""
        runner = self.task_runner.duplicate()
        token = current_runner.set(runner)
        try:
            return self.fn(*args, **kwargs)
        finally:
            current_runner.reset(token)
            runner.close()

    async def invoke_async(self, *args: Any, **kwargs: Any) -> Any:
        """`invoke` for an async flow: awaited on the caller's loop."""
        runner = self.task_runner.duplicate()
        token = current_runner.set(runner)
        try:
            return await self.fn(*args, **kwargs)  # type: ignore[misc]
        finally:
            current_runner.reset(token)
            await asyncio.to_thread(runner.close)

    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    @overload
    def __call__(self, *args: Any, return_state: bool, **kwargs: Any) -> Any: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run now as a tracked flow run; with ``return_state=True``, return its FlowState.

        An async flow returns a coroutine to await (concurrent subflows: asyncio.gather).
        """
        return_state = False
        if "return_state" in kwargs and "return_state" not in self.signature.parameters:
            return_state = bool(kwargs.pop("return_state"))
        if self.is_async:
            return self._call_async(args, kwargs, return_state)
        return self._outcome(*run_flow(self, args, kwargs), return_state)

    async def _call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any],
                          return_state: bool) -> Any:
        return self._outcome(*await run_flow_async(self, args, kwargs), return_state)

    @staticmethod
    def _outcome(decision: Decision, run_id: str, return_state: bool) -> Any:
        if not return_state:
            return value_or_raise(decision, run_id)
        if isinstance(decision, Complete):
            return FlowState(name=StateName.COMPLETED, run_id=run_id, value=decision.value,
                             message=decision.note)
        assert isinstance(decision, Fail)
        return FlowState(name=decision.state, run_id=run_id, message=decision.message,
                         error=decision.error, exception=decision.exc)


@overload
def flow(fn: Callable[P, R], /) -> Flow[P, R]: ...


@overload
def flow(
    *,
    name: str | None = None,
    version: str | None = None,
    description: str | None = None,
    retries: int = 0,
    retry_delay_seconds: RetryDelay = 0,
    retry_jitter_factor: float | None = None,
    timeout_seconds: float | None = None,
    validate_parameters: bool = True,
    tags: Iterable[str] | None = None,
    task_runner: TaskRunner | None = None,
    log_prints: bool | None = None,
    on_completion: Iterable[Hook] | None = None,
    on_failure: Iterable[Hook] | None = None,
    on_crashed: Iterable[Hook] | None = None,
    on_cancellation: Iterable[Hook] | None = None,
    on_running: Iterable[Hook] | None = None,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(fn: Callable[P, R] | None = None, /, **options: Any) -> Any:
    """Make a function a flow: ``@flow`` or ``@flow(name="etl", retries=1)``.

    Options are `Flow`'s, including the state change hooks ``on_completion``,
    ``on_failure``, ``on_crashed``, ``on_cancellation`` and ``on_running`` (lists of
    ``hook(flow, flow_run, state)``; see `tasks_core.engine.hooks`). Invalid options raise
    ConfigurationError here, not when the flow first runs.
    """
    if fn is not None:
        return Flow(fn, **options)
    return lambda f: Flow(f, **options)
