"""``task.with_options(...)`` and ``flow.with_options(...)``: a copy with options changed
(Prefect's ``Task.with_options`` / ``Flow.with_options``, src/prefect/tasks.py, flows.py).

    fast = fetch.with_options(retries=0, timeout_seconds=5, name="fetch-fast")
    fast("https://example.com")      # runs with the changed options
    fast.delay("https://example.com")  # the same on a worker

The copy wraps the same function, so it keeps the original's importable address (`Task.key`,
``module:qualname``): a worker resolves that address to the original task and runs the
function with the copy's options, because every option that changes how a run executes
(retries, delays, timeout, log_prints, cache key and expiration, persist_result,
result_storage) is resolved when the run is created and carried in its `RunOptions`, and
the rest (name, run name, tags, queue, priority) are written on its record. The copy is not
registered: the original stays what its address resolves to.

Hooks given to a copy (``on_failure=...``) are called for runs in this process; a worker
calls the hooks of the task its address resolves to.

Options are those of ``@task`` / ``@flow``; an unknown one raises ConfigurationError naming
it (and the known ones); the changed options are validated as the decorator validates them.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, TypeVar

from tasks_core.errors import ConfigurationError

if TYPE_CHECKING:
    from tasks_core.flow import Flow
    from tasks_core.task import Task

__all__ = ["flow_with_options", "task_with_options"]

D = TypeVar("D")


def _known(kind: type[Any]) -> list[str]:
    """The options `kind` takes: its named parameters, and Celery's decorator options
    (`tasks_core.task_options`) where it takes them as keywords (tasks)."""
    params = inspect.signature(kind.__init__).parameters
    names = [name for name, param in params.items()
             if name not in ("self", "fn") and param.kind is not param.VAR_KEYWORD]
    if any(param.kind is param.VAR_KEYWORD for param in params.values()):
        from tasks_core.task_options import CELERY_OPTIONS

        names += sorted(CELERY_OPTIONS)
    return names


def _check(owner: str, kind: type[Any], changes: dict[str, Any]) -> None:
    known = _known(kind)
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ConfigurationError(
            f"{owner}.with_options(): unknown option {', '.join(map(repr, unknown))} "
            f"(options: {', '.join(known)})")


def task_with_options(task: Task[Any, Any], changes: dict[str, Any]) -> Task[Any, Any]:
    """A copy of `task` with `changes` applied; the registry keeps `task`'s original."""
    from tasks_core.registry import lookup, register

    _check(f"task {task.name!r}", type(task), changes)
    original = lookup(task.key)
    copy = type(task)(task.fn, **{**task.init_options, **changes})
    if original is not None:
        register(original)  # the address resolves to what it did before
    return copy


def flow_with_options(flow: Flow[Any, Any], changes: dict[str, Any]) -> Flow[Any, Any]:
    """A copy of `flow` with `changes` applied (deployable: its deployment carries the
    copy's name and options, its entrypoint is the original's)."""
    _check(f"flow {flow.name!r}", type(flow), changes)
    copy = type(flow)(flow.fn, **{**flow.init_options, **changes})
    copy._deploy_from = flow._deploy_from
    return copy
