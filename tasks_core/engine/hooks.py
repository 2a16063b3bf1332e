"""State change hooks: user callables run when a run ends, or when a flow run starts.

As in Prefect (docs.prefect.io, "How to respond to state changes"), a task or flow takes
lists of callables, each called ``hook(task_or_flow, run, state)``:

    =================  ======================================  =============
    option             called when the run ends (state type)   on
    =================  ======================================  =============
    on_completion      COMPLETED (Completed, Cached)           tasks, flows
    on_failure         FAILED (Failed, TimedOut)               tasks, flows
    on_crashed         CRASHED                                 tasks, flows
    on_cancellation    CANCELLED                               tasks, flows
    on_running         a flow run enters RUNNING (each attempt: flows
                       Running, then Retrying)
    =================  ======================================  =============

`run` is a `RunView`, `state` a `RunState` (`engine.views`). Where they are called from:

- `fire_final`, by `lifecycle.conclude` (the one place an attempt's end is recorded, on
  every path: direct calls, worker runs, a flow's task runners, nested flows, deployment
  flow runs, engine errors and interruptions, crashes found by `recovery`) and by
  `caching.cached_outcome` (a cache hit ends a run Cached without an attempt). Only a final
  state calls hooks: a failure that will be retried calls none, so ``on_failure`` runs once,
  when the run finally fails.
- `fire_running`, by the attempt loop before each attempt of a flow run.

Invariants: a hook runs after the final state is written (on a worker it was written
synchronously; in process the reporter is flushed and the recorded state read back, and a
run that another process ended differently, e.g. cancelled, calls no hook here); a hook
that raises is logged with the run id and the hook's name and changes nothing; hooks are
resolved where the task or flow object is (in process: the object; on a worker and in
recovery: `registry.resolve(task_key)` or the deployment's entrypoint), never serialized.
When Redis is away the final state is still written later by the reporter (it never
drops a write) and the hooks are called without waiting for it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from tasks_core.engine.outcome import Complete, Decision, Fail
from tasks_core.engine.views import RunState, RunView, decode_parameters
from tasks_core.errors import ConfigurationError
from tasks_core.records import RunRecord
from tasks_core.states import StateName, StateType, state_type
from tasks_core.store.runs import Transition, utcnow

if TYPE_CHECKING:
    from tasks_core.engine.claim import ClaimedRun
    from tasks_core.engine.lifecycle import RunHandle
    from tasks_core.process_runtime import Runtime

__all__ = ["FINAL_HOOKS", "FlowHookMethods", "Hook", "HookSet", "RunHooks", "TaskHookMethods",
           "fire_final", "fire_running", "hook_for_state", "hook_set"]

log = logging.getLogger("tasks_core.hooks")

Hook = Callable[[Any, RunView, RunState], Any]
"""``hook(task_or_flow, run, state)``; its return value is ignored (an awaitable is
awaited)."""

FINAL_HOOKS: dict[StateType, str] = {
    StateType.COMPLETED: "on_completion",
    StateType.FAILED: "on_failure",
    StateType.CRASHED: "on_crashed",
    StateType.CANCELLED: "on_cancellation",
}
"""Which hook list a final state's type calls."""

CONFIRM_SECONDS = 10.0
"""In process: how long a hook waits for the reporter to write the final state."""


def hook_for_state(name: StateName) -> str | None:
    """The hook option a state calls (``on_failure`` for TimedOut), or None (not final)."""
    return FINAL_HOOKS.get(state_type(name))


@dataclass(frozen=True, slots=True)
class HookSet:
    """The hooks of one task or flow, validated when it was decorated."""

    on_completion: tuple[Hook, ...] = ()
    on_failure: tuple[Hook, ...] = ()
    on_crashed: tuple[Hook, ...] = ()
    on_cancellation: tuple[Hook, ...] = ()
    on_running: tuple[Hook, ...] = ()

    def __bool__(self) -> bool:
        return any((self.on_completion, self.on_failure, self.on_crashed,
                    self.on_cancellation, self.on_running))

    def adding(self, option: str, hook: Hook, *, owner: str) -> HookSet:
        """A copy with `hook` appended to `option` (``@my_task.on_failure``).

        Raises:
            ConfigurationError: `hook` is not callable.
        """
        if not callable(hook):
            raise ConfigurationError(f"{owner}: {option} hook {hook!r} is not callable")
        return replace(self, **{option: (*getattr(self, option), hook)})


H = TypeVar("H", bound=Callable[..., Any])


class TaskHookMethods:
    """Hooks added after decorating, Prefect's decorator form::

        @my_task.on_failure
        def notify(task, task_run, state): ...

    Each method appends its function to the hook list and returns it unchanged.
    """

    hooks: HookSet

    def _add_hook(self, option: str, hook: H) -> H:
        self.hooks = self.hooks.adding(option, hook, owner=repr(self))
        return hook

    def on_completion(self, hook: H) -> H:
        """Call `hook` when a run ends Completed or Cached."""
        return self._add_hook("on_completion", hook)

    def on_failure(self, hook: H) -> H:
        """Call `hook` when a run ends Failed or TimedOut (after its last retry)."""
        return self._add_hook("on_failure", hook)

    def on_crashed(self, hook: H) -> H:
        """Call `hook` when a run ends Crashed."""
        return self._add_hook("on_crashed", hook)

    def on_cancellation(self, hook: H) -> H:
        """Call `hook` when a run ends Cancelled."""
        return self._add_hook("on_cancellation", hook)


class FlowHookMethods(TaskHookMethods):
    """`TaskHookMethods` and ``@my_flow.on_running``."""

    def on_running(self, hook: H) -> H:
        """Call `hook` as each attempt of a flow run starts (Running, then Retrying)."""
        return self._add_hook("on_running", hook)


def hook_set(owner: str, *, running: bool = True, **options: Iterable[Hook] | None) -> HookSet:
    """Validate hook options (`owner` names the task or flow in errors).

    Each option is None or a list (any iterable but a string) of callables, as in Prefect.
    `running` False refuses ``on_running`` (tasks take the four final-state hooks).

    Raises:
        ConfigurationError: an unknown option, a single callable instead of a list, or an
            item that is not callable; naming the option and the fix.
    """
    allowed = {*FINAL_HOOKS.values(), *(("on_running",) if running else ())}
    hooks: dict[str, tuple[Hook, ...]] = {}
    for option, given in options.items():
        if option not in allowed:
            raise ConfigurationError(f"{owner}: unknown hook option {option!r} "
                                     f"(expected one of {sorted(allowed)})")
        if given is None:
            continue
        if callable(given) or isinstance(given, str | bytes) or not isinstance(given, Iterable):
            example = getattr(given, "__name__", "hook")
            raise ConfigurationError(f"{owner}: {option} must be a list of callables, got "
                                     f"{given!r}; write {option}=[{example}]")
        items = tuple(given)
        for item in items:
            if not callable(item):
                raise ConfigurationError(f"{owner}: {option} holds {item!r}, which is not "
                                         "callable; each hook is hook(task_or_flow, run, state)")
        hooks[option] = items
    return HookSet(**hooks)


@dataclass(slots=True)
class RunHooks:
    """A run's hooks and what calling them needs, carried by its `RunHandle`.

    `definition` is the Task or Flow; in recovery it is found only when a hook may be
    called (`resolve`, which may import user code or fetch a deployment's source).
    """

    run_id: str
    kind: str
    name: str
    definition: Any = None
    resolve: Callable[[], Any] | None = None
    parameters_json: str | None = None
    parameters: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    task_key: str = ""
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    deployment_id: str | None = None

    @classmethod
    def of_record(cls, definition: Any, record: RunRecord) -> RunHooks | None:
        """For a run created here (`record` as built by `new_runs`); None: no hooks (nor
        Celery handlers or retry condition: `engine.task_handlers`)."""
        if not definition.hooks and not getattr(definition, "engine_callbacks", False):
            return None
        return cls(record.id, record.kind, record.name, definition,
                   parameters_json=record.parameters_json, parameters=record.parameters,
                   tags=list(record.tags), task_key=record.task_key,
                   parent_flow_run_id=record.parent_flow_run_id,
                   parent_task_run_id=record.parent_task_run_id,
                   deployment_id=record.deployment_id)

    @classmethod
    def of_claimed(cls, definition: Any, run: ClaimedRun,
                   tags: list[str] | None = None) -> RunHooks | None:
        """For a run claimed on a worker; None: no hooks. `tags` default to the task's or
        flow's own (a task run's tags are its task's)."""
        if not definition.hooks and not getattr(definition, "engine_callbacks", False):
            return None
        return cls(run.id, run.kind, run.name, definition, parameters_json=run.parameters,
                   tags=list(definition.tags if tags is None else tags),
                   task_key=run.task_key, parent_flow_run_id=run.parent_flow_run_id,
                   parent_task_run_id=run.parent_task_run_id, deployment_id=run.deployment_id)

    @classmethod
    def recovered(cls, record: RunRecord, resolve: Callable[[], Any]) -> RunHooks:
        """For a run read back from Redis, whose definition `resolve` finds if needed."""
        return cls(record.id, record.kind, record.name, resolve=resolve,
                   parameters=record.parameters, tags=list(record.tags),
                   task_key=record.task_key, parent_flow_run_id=record.parent_flow_run_id,
                   parent_task_run_id=record.parent_task_run_id,
                   deployment_id=record.deployment_id)

    def found(self, state: StateName) -> Any:
        """The definition, resolved now if needed; None (logged) when it cannot be."""
        if self.definition is None and self.resolve is not None:
            try:
                self.definition = self.resolve()
            except Exception as exc:
                log.warning("run %s ended %s; its %s hooks (if any) could not be called "
                            "here: %s", self.run_id, state, hook_for_state(state) or "",
                            exc)
            self.resolve = None
        return self.definition

    def view(self, state: RunState, attempt: int) -> RunView:
        """The run as its hooks see it, in `state`."""
        parameters = (self.parameters if self.parameters_json is None
                      else decode_parameters(self.parameters_json))
        return RunView(self.run_id, self.kind, self.name, dict(parameters or {}), state,
                       attempt, list(self.tags), self.task_key, self.parent_flow_run_id,
                       self.parent_task_run_id, self.deployment_id)


def final_state(change: Transition, decision: Decision | None) -> RunState:
    """The state a recorded end (`change`) gives hooks; value and exception from
    `decision` when this process decided it."""
    value = decision.value if isinstance(decision, Complete) else None
    error = decision.error if isinstance(decision, Fail) else None
    exc = decision.exc if isinstance(decision, Fail) else None
    return RunState(StateName(change.target), change.run_id, change.message, error, value,
                    exc, change.at or utcnow())


def fire_final(rt: Runtime, handle: RunHandle, change: Transition, decision: Decision | None,
               attempt: int) -> None:
    """Call the hooks of the final state `change` wrote (it applied); never raises an
    Exception (a failing hook, a missing definition and a store error are logged)."""
    hooks = handle.hooks
    option = hook_for_state(StateName(change.target))
    if hooks is None or option is None:
        return
    try:
        definition = hooks.found(StateName(change.target))
        if definition is None or not getattr(definition.hooks, option):
            return
        if not handle.on_worker and not _recorded(rt, change):
            return
        state = final_state(change, decision)
        _call_all(option, getattr(definition.hooks, option), definition,
                  hooks.view(state, attempt), state)
    except Exception:  # the run has ended: nothing here may change that
        log.exception("run %s: calling its %s hooks failed", change.run_id, option)


def fire_running(handle: RunHandle, attempt: int) -> None:
    """Call a flow run's ``on_running`` hooks as attempt `attempt` starts (Running, or
    Retrying after the first); never raises an Exception."""
    hooks = handle.hooks
    if hooks is None or hooks.kind != "flow" or hooks.definition is None:
        return
    chosen = hooks.definition.hooks.on_running
    if not chosen:
        return
    name = StateName.RUNNING if attempt == 1 else StateName.RETRYING
    state = RunState(name, hooks.run_id, timestamp=utcnow())
    _call_all("on_running", chosen, hooks.definition, hooks.view(state, attempt), state)


def _recorded(rt: Runtime, change: Transition) -> bool:
    """In process: wait for the reporter to write the end, then check that it is the
    recorded one (another process may have ended the run first, e.g. cancelled it)."""
    try:
        if not rt.reporter.flush(timeout=CONFIRM_SECONDS):
            log.warning("run %s: %s not written yet (Redis away?); calling its hooks anyway",
                        change.run_id, change.target)
            return True
        recorded = rt.store.state_of(change.run_id)
    except ConnectionError:
        log.warning("run %s: cannot read its state back (Redis away); calling its hooks "
                    "anyway", change.run_id)
        return True
    if recorded and recorded != change.target:
        log.info("run %s: ended %s, not %s; no %s hooks called here", change.run_id,
                 recorded, change.target, hook_for_state(StateName(change.target)))
        return False
    return True


def _call_all(option: str, hooks: Iterable[Hook], definition: Any, run: RunView,
              state: RunState) -> None:
    for hook in hooks:
        name = getattr(hook, "__qualname__", None) or repr(hook)
        try:
            returned = hook(definition, run, state)
            if inspect.isawaitable(returned):
                _wait(returned)
        except Exception:
            log.exception("run %s: %s hook %s raised; the run stays %s", run.id, option,
                          name, state.name)


def _wait(awaitable: Awaitable[Any]) -> None:
    """Await an async hook: on a loop of its own (in a thread when this one runs a loop,
    as an async run's driver does)."""
    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(wait())
        return
    with ThreadPoolExecutor(1, thread_name_prefix="tasks-core-hook") as pool:
        pool.submit(asyncio.run, wait()).result()
