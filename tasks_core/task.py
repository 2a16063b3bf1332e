"""`@task`: definitions only (options, direct call, delay/apply_async, submit, map).

Options are validated when the decorator runs, not when the task first executes.
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from tasks_core import eager
from tasks_core.cache_policies import CachePolicy, cache_policy_option
from tasks_core.engine import new_runs
from tasks_core.engine.apply import send_with_options
from tasks_core.engine.caching import cache_key
from tasks_core.engine.calling import CallOptions
from tasks_core.engine.context import current_run
from tasks_core.engine.hooks import Hook, TaskHookMethods, hook_set
from tasks_core.engine.limits import hard_limit
from tasks_core.engine.parameters import ParameterSpec, return_annotation
from tasks_core.engine.request import RequestInfo, bound_callable
from tasks_core.engine.sending import run_envelope, send_new
from tasks_core.engine.tagged import loads_tagged, tag_values
from tasks_core.engine.task_handlers import handler_hooks, overrides
from tasks_core.engine.task_run import run_task, run_task_async, state_after
from tasks_core.errors import ConfigurationError
from tasks_core.future_sets import FutureList
from tasks_core.futures import TaskFuture
from tasks_core.inputs import map_calls, prepare_call, resolve_inputs, wait_upstream
from tasks_core.process_runtime import get_runtime
from tasks_core.rate_limits import parse_rate_limit
from tasks_core.records import RunOptions
from tasks_core.registry import register
from tasks_core.result_options import (
    ResultStorage,
    caching_with_results,
    persist_option,
    storage_option,
)
from tasks_core.routing import destination
from tasks_core.run_names import RunName, run_name_option
from tasks_core.states import StateName
from tasks_core.task_celery import CeleryTaskMethods, unbound_view
from tasks_core.task_options import call_limits, parse_celery_options
from tasks_core.with_options import task_with_options

if TYPE_CHECKING:
    from tasks_core.canvas.signatures import Signature

__all__ = ["Task", "exponential_backoff", "task"]

P = ParamSpec("P")
R = TypeVar("R")

_PLAIN_CALL = CallOptions()
"""No Celery calling option given: the quicker send path (`Task._send`)."""

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


def _plus(given: Iterable[Hook] | None, extra: list[Hook] | None) -> Iterable[Hook] | None:
    """A hook option with `extra` hooks appended (given as is when there are none)."""
    if not extra:
        return given
    if given is None:
        return extra
    if callable(given) or not isinstance(given, Iterable):
        return given  # hook_set refuses it, naming the option
    return [*given, *extra]


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


class Task(TaskHookMethods, CeleryTaskMethods, Generic[P, R]):
    """A function tracked as task runs, runnable in process or on Celery workers.

    State change hooks (`on_completion`, `on_failure`, `on_crashed`, `on_cancellation`):
    lists of callables, each called ``hook(task, task_run, state)`` once when a run of
    this task reaches a final state of that type, on every path (a direct call, `.delay()`
    and `.map()` on a worker, a flow's task runner, a crash found by recovery); see
    `tasks_core.engine.hooks`. They can also be added with ``@my_task.on_failure``.

    Celery's decorator options (``bind``, ``autoretry_for``, ``max_retries``,
    ``retry_backoff``, ``soft_time_limit``, ``time_limit``, ``ignore_result``, ...) and
    Prefect's ``retry_condition_fn`` are taken as keyword options: see
    `tasks_core.task_options`; a bound task gets Celery's ``self.request``,
    ``self.retry()`` and ``self.update_state()`` (`tasks_core.task_celery`).
    Prefect's options: ``cache_policy`` objects (`tasks_core.cache_policies`),
    ``task_run_name`` (`tasks_core.run_names`), ``persist_result`` and ``result_storage``
    (`tasks_core.result_options`); `with_options` copies (`tasks_core.with_options`).
    """

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        retries: int = 0,
        retry_delay_seconds: RetryDelay | None = None,
        retry_jitter_factor: float | None = None,
        timeout_seconds: float | None = None,
        tags: Iterable[str] | None = None,
        queue: str | None = None,
        priority: int = 0,
        rate_limit: str | float | None = None,
        log_prints: bool | None = None,
        cache_key_fn: Callable[..., str | None] | None = None,
        cache_policy: CachePolicy | str | None = None,
        cache_expiration: timedelta | float | None = None,
        refresh_cache: bool = False,
        on_completion: Iterable[Hook] | None = None,
        on_failure: Iterable[Hook] | None = None,
        on_crashed: Iterable[Hook] | None = None,
        on_cancellation: Iterable[Hook] | None = None,
        task_run_name: RunName | None = None,
        persist_result: bool | None = None,
        result_storage: ResultStorage | None = None,
        **celery_options: Any,
    ) -> None:
        if not callable(fn):
            raise ConfigurationError(f"@task needs a function, got {fn!r}")
        self.init_options = {
            **{k: v for k, v in locals().items() if k not in ("self", "fn", "celery_options")},
            **celery_options}
        """The options as given, for `with_options` copies."""
        self.fn = fn
        self.name = name or fn.__name__
        self.description = description or inspect.getdoc(fn)
        if retries < 0:
            raise ConfigurationError(f"task {self.name}: retries must be >= 0, got {retries}")
        self.retries = retries
        self.retry_delays = _retry_delays(self.name, retries, retry_delay_seconds or 0)
        celery = parse_celery_options(f"task {self.name!r}", celery_options, retries=retries,
                                      retry_delays=self.retry_delays,
                                      retry_delay_given=retry_delay_seconds is not None)
        self.bind = celery.bind
        self.max_retries = celery.max_retries
        self.default_retry_delay = celery.default_retry_delay
        self.retry_condition_fn = celery.retry_condition_fn
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
        # Celery's rate_limit, enforced across all workers (tasks_core.rate_limits)
        self.rate_limit = rate_limit
        self.rate_per_second = parse_rate_limit(f"task {self.name!r}", rate_limit)
        # print() captured into the run's logs; None inherits it from the enclosing flow
        self.log_prints = _log_prints("task", self.name, log_prints)
        if cache_key_fn is not None and not callable(cache_key_fn):
            raise ConfigurationError(f"task {self.name}: cache_key_fn must be callable")
        self.cache_key_fn = cache_key_fn
        self.persist_result = persist_option(f"task {self.name}", persist_result)
        self.cache_policy = caching_with_results(
            f"task {self.name}", persist_result,
            cache_policy_option(f"task {self.name}", cache_policy), cache_key_fn)
        self.result_storage = storage_option(f"task {self.name}", result_storage)
        if isinstance(cache_expiration, timedelta):
            cache_expiration = cache_expiration.total_seconds()
        if cache_expiration is not None and not cache_expiration > 0:
            raise ConfigurationError(f"task {self.name}: cache_expiration must be > 0")
        self.cache_expiration = cache_expiration
        self.refresh_cache = refresh_cache
        handlers = handler_hooks(self)  # a base= class's Celery handlers
        self.hooks = hook_set(
            f"task {self.name!r}", running=False,
            on_completion=_plus(on_completion, handlers.get("on_completion")),
            on_failure=_plus(on_failure, handlers.get("on_failure")),
            on_crashed=_plus(on_crashed, handlers.get("on_crashed")),
            on_cancellation=on_cancellation)
        self.engine_callbacks = self.retry_condition_fn is not None or overrides(self,
                                                                                  "on_retry")
        self.is_async = inspect.iscoroutinefunction(fn)
        self.key = task_key(fn)
        self.parameters = ParameterSpec(
            unbound_view(fn, f"task {self.name!r}") if self.bind else fn,
            owner=f"task {self.name!r}")
        self._signature = self.parameters.signature  # inspect.Signature of fn
        self.task_run_name = run_name_option(f"task {self.name}", "task_run_name",
                                             task_run_name, self._signature)
        self.return_type = return_annotation(fn)
        self._typed = any(hint is not Any for hint in self.parameters.hints.values())
        self.options = RunOptions(**{
            "retries": retries, "retry_delays": self.retry_delays,
            "retry_jitter_factor": retry_jitter_factor, "timeout_seconds": timeout_seconds,
            "cache_expiration": cache_expiration, "refresh_cache": refresh_cache,
            "persist_result": persist_result is not False,
            "result_storage": self.result_storage,
            **(celery.run_options or {})})
        self.retries, self.retry_delays = self.options.retries, self.options.retry_delays
        functools.update_wrapper(self, fn)
        register(self)

    @property
    def caches(self) -> bool:
        """Whether runs of this task look up and keep results in the cache."""
        return self.cache_key_fn is not None or self.cache_policy is not None

    def __repr__(self) -> str:
        return f"Task({self.name!r}, key={self.key!r})"

    def with_options(self, **options: Any) -> Task[P, R]:
        """A copy with `options` changed (any of ``@task``'s); see `tasks_core.with_options`.

        Raises:
            ConfigurationError: an unknown option, or a changed one that is invalid.
        """
        return task_with_options(self, options)

    # -- in process -----------------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run now, in this process, as a tracked task run (an async task: a coroutine).

        Futures among the arguments are resolved first and ``wait_for=[...]`` is waited
        for (Prefect's semantics, `tasks_core.inputs`); an upstream run that did not
        complete ends this run Failed with `UpstreamFailed` before its body runs."""
        if "return_state" in kwargs and "return_state" not in self._signature.parameters:
            return self._call_for_state(args, kwargs)  # type: ignore[no-any-return]
        args, kwargs, blocked = prepare_call(self, args, kwargs)  # type: ignore[assignment]
        if self.is_async:
            return run_task_async(self, args, kwargs,  # type: ignore[return-value]
                                  blocked_by=blocked)
        result: R = run_task(self, args, kwargs, blocked_by=blocked)
        return result

    def _call_for_state(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``task(..., return_state=True)``: the run's final `State` instead of its value
        (its exception is in the state, not raised); an async task gives a coroutine."""
        want = bool(kwargs.pop("return_state"))
        args, kwargs, blocked = prepare_call(self, args, kwargs)
        run_id = str(uuid.uuid4())
        if not want:
            return self(*args, **kwargs)
        if self.is_async:
            return self._state_async(args, kwargs, blocked, run_id)
        try:
            return state_after(run_id, run_task(self, args, kwargs, run_id=run_id,
                                                blocked_by=blocked), None)
        except Exception as exc:
            return state_after(run_id, None, exc)

    async def _state_async(self, args: tuple[Any, ...], kwargs: dict[str, Any],
                           blocked: Any, run_id: str) -> Any:
        try:
            value = await run_task_async(self, args, kwargs, blocked_by=blocked,
                                         run_id=run_id)
        except Exception as exc:
            return state_after(run_id, None, exc)
        return state_after(run_id, value, None)

    # -- on Celery queues -----------------------------------------------------------------

    def serve(self, *, limit: int | None = None) -> None:
        """Run a task worker for this task until Ctrl-C (Prefect's ``task.serve()``; see
        `tasks_core.task_worker.serve`)."""
        from tasks_core.task_worker import serve

        serve(self, limit=limit)

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> TaskFuture[R]:
        """Send a run to the task's queue (Celery's `.delay`); in eager mode
        (`tasks_core.eager`), run it here and return a finished `EagerResult`."""
        if eager.eager_mode():
            return eager.apply(self, args, kwargs)
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
        soft_time_limit: float | None = None,
        time_limit: float | None = None,
        task_id: str | None = None,
        expires: float | datetime | timedelta | None = None,
        headers: dict[str, Any] | None = None,
        shadow: str | None = None,
        retry: bool | None = None,
        retry_policy: dict[str, Any] | None = None,
        link: Any = None,
        link_error: Any = None,
    ) -> TaskFuture[R]:
        """Send a run with Celery's options: a delay, a start time, a queue, a priority,
        this run's `soft_time_limit` / `time_limit` (seconds, over the task's own), and
        `task_id`, `expires`, `headers`, `shadow`, `retry`, `retry_policy` as
        `tasks_core.engine.calling` describes them (a `task_id` that exists returns that
        run; an unstarted run past `expires` ends Cancelled, "expired");
        `link` / `link_error`: signatures (or lists) run with its result when it completes /
        with its id when it fails, created held and released by the ledger
        (`tasks_core.canvas`). In eager mode (`tasks_core.eager`) the task runs here and the
        options are ignored, as Celery ignores them.

        Raises:
            ValidationError: a calling option is wrong (naming it); ParameterError: the
                arguments do not fit the task; ConfigurationError: `link`/`link_error` with
                time limits or calling options (not supported together yet).
        """
        limits = call_limits(self.name, soft_time_limit, time_limit)
        if eager.eager_mode():
            return eager.apply(self, tuple(args or ()), dict(kwargs or {}), ignored={
                "countdown": countdown, "eta": eta, "queue": queue, "priority": priority,
                "link": link, "link_error": link_error})
        call = CallOptions.of(task_id=task_id, expires=expires, headers=headers,
                              shadow=shadow, retry=retry, retry_policy=retry_policy)
        if link or link_error:
            if limits or call != _PLAIN_CALL:
                raise ConfigurationError(
                    f"task {self.name!r}: apply_async with link/link_error takes no "
                    "soft_time_limit/time_limit, task_id, expires, headers, shadow or "
                    "retry_policy yet; set the limits on the task, or send the linked "
                    "signature with those options")
            from tasks_core.canvas.links import send_linked

            linked: TaskFuture[R] = send_linked(
                self, args, kwargs, countdown=countdown, eta=eta, queue=queue,
                priority=priority, link=link, link_error=link_error)
            return linked
        if countdown is not None and eta is not None:
            raise ValueError("give countdown or eta, not both")
        if countdown is not None:
            eta = datetime.now(UTC) + timedelta(seconds=countdown)
        if eta is not None and eta.tzinfo is None:
            eta = eta.replace(tzinfo=UTC)
        if call != _PLAIN_CALL:
            return send_with_options(self, tuple(args or ()), dict(kwargs or {}), call,
                                     eta=eta, queue=queue, priority=priority, limits=limits)
        return self._send(tuple(args or ()), dict(kwargs or {}), eta=eta, queue=queue,
                          priority=priority, limits=limits)

    def apply(self, args: Sequence[Any] | None = None, kwargs: dict[str, Any] | None = None,
              *, task_id: str | None = None, throw: bool | None = None) -> eager.EagerResult[R]:
        """Run here, now, as a tracked run, and return a finished `EagerResult` (Celery's
        ``Task.apply``); see `tasks_core.eager.apply` for `throw` and the errors raised."""
        return eager.apply(self, tuple(args or ()), dict(kwargs or {}), task_id=task_id,
                           throw=throw)

    def s(self, *args: Any, **kwargs: Any) -> Signature:
        """Celery's partial signature of a call: ``add.s(2)`` (see `tasks_core.canvas`)."""
        from tasks_core.canvas.signatures import Signature

        return Signature(self, args, kwargs)

    def si(self, *args: Any, **kwargs: Any) -> Signature:
        """An immutable signature: a chain does not pass it the previous result."""
        from tasks_core.canvas.signatures import Signature

        return Signature(self, args, kwargs, immutable=True)

    def signature(self, args: Sequence[Any] | None = None,
                  kwargs: dict[str, Any] | None = None, **options: Any) -> Signature:
        """Celery's ``task.signature(args, kwargs, countdown=..., immutable=...)``."""
        from tasks_core.canvas.signatures import Signature

        return Signature(self, args, kwargs, **options)

    subtask = signature

    def submit(self, *args: Any, wait_for: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        """Inside a flow: a run on the flow's task runner (threads by default), returning a
        future. Outside a flow: a background run on a worker, like `.delay()`.

        Futures among the arguments are resolved and `wait_for` waited for before the run
        starts (`tasks_core.inputs`); outside a flow a failed upstream raises
        `UpstreamFailed` here, and no run is created."""
        from tasks_core.task_runners import current_runner

        runner = current_runner.get()
        if runner is not None:
            return runner.submit(self, args, kwargs, wait_for)
        wait_upstream(wait_for)
        return self._send(resolve_inputs(args), resolve_inputs(kwargs))

    def map(self, *args: Any, wait_for: Sequence[Any] | None = None,
            **kwargs: Any) -> FutureList:
        """One run per element of the iterable arguments, positional or keyword (Prefect's
        ``map``): ``unmapped(x)`` and non-iterables go whole to every run; iterables of
        different lengths raise ParameterError. On the flow's task runner inside a flow,
        else sent in chunks to the workers. Returns a `FutureList` (``.result()``,
        ``.wait()``) in input order."""
        from tasks_core.task_runners import current_runner

        calls = map_calls(self, args, kwargs)
        runner = current_runner.get()
        if runner is not None:
            return FutureList(runner.map(self, calls, wait_for))
        from tasks_core.engine.fanout import send_map

        wait_upstream(wait_for)
        return FutureList(send_map(self, [(resolve_inputs(tuple(a)), resolve_inputs(k))
                                          for a, k in calls]))

    def _send(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        eta: datetime | None = None,
        queue: str | None = None,
        priority: int | None = None,
        limits: dict[str, float] | None = None,
    ) -> TaskFuture[R]:
        rt = get_runtime()
        parent = current_run.get()
        parameters = self.parameters.bind(args, kwargs)
        params_json = self.encode_parameters(parameters)
        run_id = str(uuid.uuid4())
        key = cache_key(self, run_id, parameters) if self.caches else None
        later = eta is not None and eta > datetime.now(UTC)
        options = new_runs.run_options(self, parent, cache_key=key)
        if limits:
            options = options.model_copy(update=limits)
        queue, priority = destination(rt, self.name, args, kwargs, queue=queue,
                                      priority=priority, task_queue=self.queue,
                                      task_priority=self.priority)  # task_routes
        run = new_runs.task_run(
            self, params_json, options, parent,
            state=StateName.SCHEDULED if eta else StateName.PENDING, queue=queue,
            priority=priority, scheduled_time=eta, run_id=run_id)
        if later:
            rt.store.create(run, due=eta)  # beat sends it when due (durable, never twice)
        else:
            send_new(rt, run, run_envelope(run, 1))
        return TaskFuture(run.id, self.name, self.return_type)

    def encode_parameters(self, parameters: dict[str, Any]) -> str:
        """Bound parameters as the JSON a worker gets, checked as the worker will check it
        (`ParameterSpec.encode`, then `coerce` of that JSON when the signature has hints).

        Raises:
            ParameterError: too large, too deep, no JSON form, or not what the hints accept;
                naming the parameter.
        """
        settings = get_runtime().settings
        # date, datetime, time, UUID, Decimal travel in kombu's tagged JSON (engine.tagged)
        text = self.parameters.encode(tag_values(parameters),
                                      max_bytes=settings.parameters_max_bytes,
                                      max_depth=settings.parameters_max_depth)
        if self._typed:
            self.parameters.coerce(loads_tagged(text))
        return text

    @property
    def hard_time_limit(self) -> float | None:
        """Celery's hard limit: `time_limit`, else a backstop a little after the body's
        deadline (`engine.limits.hard_limit`)."""
        return hard_limit(self.options)

    def attempt_fn(self, info: RequestInfo) -> Callable[..., Any]:
        """What an attempt of the run `info` describes calls: the function, or for a bound
        task the function with this task first and ``self.request`` set."""
        return bound_callable(self.fn, self, info) if self.bind else self.fn


@overload
def task(fn: Callable[P, R], /) -> Task[P, R]: ...


@overload
def task(
    *,
    name: str | None = None,
    description: str | None = None,
    retries: int = 0,
    retry_delay_seconds: RetryDelay | None = None,
    retry_jitter_factor: float | None = None,
    timeout_seconds: float | None = None,
    tags: Iterable[str] | None = None,
    queue: str | None = None,
    priority: int = 0,
    rate_limit: str | float | None = None,
    log_prints: bool | None = None,
    cache_key_fn: Callable[..., str | None] | None = None,
    cache_policy: CachePolicy | str | None = None,
    cache_expiration: timedelta | float | None = None,
    refresh_cache: bool = False,
    on_completion: Iterable[Hook] | None = None,
    on_failure: Iterable[Hook] | None = None,
    on_crashed: Iterable[Hook] | None = None,
    on_cancellation: Iterable[Hook] | None = None,
    task_run_name: RunName | None = None,
    persist_result: bool | None = None,
    result_storage: ResultStorage | None = None,
    base: type[Task[Any, Any]] | None = None,
    **celery_options: Any,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(fn: Callable[P, R] | None = None, /, **options: Any) -> Any:
    """Make a function a task: ``@task`` or ``@task(retries=3, queue="io")``.

    Options are `Task`'s, including the state change hooks ``on_completion``,
    ``on_failure``, ``on_crashed`` and ``on_cancellation`` (lists of
    ``hook(task, task_run, state)``; see `tasks_core.engine.hooks`), and Celery's options
    (`tasks_core.task_options`), ``base=`` being a Task subclass to instantiate (its
    Celery handlers are called: `engine.task_handlers`). Invalid options raise
    ConfigurationError here, not when the task first runs.
    """
    cls = options.pop("base", None) or Task
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise ConfigurationError(f"@task: base must be a subclass of tasks_core Task, got "
                                 f"{cls!r}")
    if fn is not None:
        return cls(fn, **options)
    return lambda f: cls(f, **options)
