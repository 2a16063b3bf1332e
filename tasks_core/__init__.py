"""tasks-core: Prefect-style tasks and flows on Celery and Redis.

    from tasks_core import task

    @task(retries=2)
    def add(x: int, y: int) -> int:
        return x + y

    add(1, 2)                  # runs now, in this process, tracked
    add.delay(1, 2).result()   # runs on a worker (tasks-core worker), tracked

``celery -A tasks_core inspect active`` (and Celery's other monitoring and control
commands) attach to a running cluster through `tasks_core.app`, built when first read
(see `tasks_core.celery_cli`).

Every public name is imported when first read (PEP 562 ``__getattr__``), so ``import
tasks_core`` loads none of the engine, pydantic, Redis or Celery, and ``from tasks_core
import task, flow`` loads what tasks and flows need, not automations or deployments
(`_PUBLIC` maps each name to the module defining it; tests/unit/test_import_footprint.py
holds the line). ``tasks_core.task`` and ``tasks_core.flow`` stay the decorators even
after their submodules are imported (`_Package.__setattr__`), as when this module
imported them eagerly.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as mypy and editors see them; read lazily at run time
    from tasks_core.annotations import allow_failure, quote, unmapped
    from tasks_core.deployments import deploy, run_deployment, serve
    from tasks_core.engine.by_name import send_task
    from tasks_core.engine.cancel import cancel_run
    from tasks_core.engine.views import RunState, RunView
    from tasks_core.errors import (
        CancelledRun,
        CrashedRun,
        EventError,
        FailedRun,
        ParameterError,
        ResultError,
        RunError,
        RunNotFound,
        RunTimeout,
        StoreUnavailable,
        TaskCancelled,
        TaskNotFound,
        TasksCoreError,
        TimedOutRun,
        UpstreamFailed,
    )
    from tasks_core.events import emit_event
    from tasks_core.flow import Flow, FlowState, flow
    from tasks_core.futures import TaskFuture, wait_all
    from tasks_core.pausing import pause_flow_run, resume_flow_run
    from tasks_core.records import RunRecord
    from tasks_core.run_logging import get_run_logger
    from tasks_core.run_tags import tags
    from tasks_core.states import State, StateName, StateType
    from tasks_core.suspending import suspend_flow_run
    from tasks_core.task import Task, exponential_backoff, task

__all__ = [
    "CancelledRun",
    "CrashedRun",
    "EventError",
    "FailedRun",
    "Flow",
    "FlowState",
    "ParameterError",
    "ResultError",
    "RunError",
    "RunNotFound",
    "RunRecord",
    "RunState",
    "RunTimeout",
    "RunView",
    "State",
    "StateName",
    "StateType",
    "StoreUnavailable",
    "Task",
    "TaskCancelled",
    "TaskFuture",
    "TaskNotFound",
    "TasksCoreError",
    "TimedOutRun",
    "UpstreamFailed",
    "allow_failure",
    "cancel_run",
    "deploy",
    "emit_event",
    "exponential_backoff",
    "flow",
    "get_run_logger",
    "pause_flow_run",
    "quote",
    "resume_flow_run",
    "run_deployment",
    "send_task",
    "serve",
    "suspend_flow_run",
    "tags",
    "task",
    "unmapped",
    "wait_all",
]

_PUBLIC: dict[str, str] = {
    **dict.fromkeys(["allow_failure", "quote", "unmapped"], "tasks_core.annotations"),
    **dict.fromkeys(["deploy", "run_deployment", "serve"], "tasks_core.deployments"),
    "send_task": "tasks_core.engine.by_name",
    "cancel_run": "tasks_core.engine.cancel",
    **dict.fromkeys(["RunState", "RunView"], "tasks_core.engine.views"),
    **dict.fromkeys(["CancelledRun", "CrashedRun", "EventError", "FailedRun", "ParameterError",
                     "ResultError", "RunError", "RunNotFound", "RunTimeout", "StoreUnavailable",
                     "TaskCancelled", "TaskNotFound", "TasksCoreError", "TimedOutRun",
                     "UpstreamFailed"], "tasks_core.errors"),
    "emit_event": "tasks_core.events",
    **dict.fromkeys(["Flow", "FlowState", "flow"], "tasks_core.flow"),
    **dict.fromkeys(["TaskFuture", "wait_all"], "tasks_core.futures"),
    **dict.fromkeys(["pause_flow_run", "resume_flow_run"], "tasks_core.pausing"),
    "RunRecord": "tasks_core.records",
    "get_run_logger": "tasks_core.run_logging",
    "tags": "tasks_core.run_tags",
    **dict.fromkeys(["State", "StateName", "StateType"], "tasks_core.states"),
    "suspend_flow_run": "tasks_core.suspending",
    **dict.fromkeys(["Task", "exponential_backoff", "task"], "tasks_core.task"),
}
"""Each public name (`__all__`) and the module it is read from on first use."""

_PREFECT_MODULES = {"cache_policies", "context", "filesystems", "flows", "logging", "runtime",
                    "tasks"}
"""Read as ``tasks_core.runtime.flow_run.id`` after ``import tasks_core`` (Prefect's
``prefect.runtime...`` ported by the import line): imported on first read."""


def __getattr__(name: str) -> Any:
    """A public name (`_PUBLIC`), imported from its module on first read and kept;
    `tasks_core.app`: the Celery app for ``celery -A tasks_core`` (built on first read);
    the Prefect-path modules (`_PREFECT_MODULES`), imported on first read."""
    module = _PUBLIC.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if name == "app":
        from tasks_core.celery_cli import cli_app

        return cli_app()
    if name in _PREFECT_MODULES:
        return importlib.import_module(f"tasks_core.{name}")
    raise AttributeError(f"module 'tasks_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's attributes and every public name, imported or not."""
    return sorted(set(globals()) | set(__all__))


class _Package(ModuleType):
    """`tasks_core` itself. Importing a submodule sets it as an attribute of its package
    (``tasks_core.task = <module>``); for the submodules that share a public name (``task``,
    ``flow``), the name keeps the decorator the submodule defines, not the module."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _PUBLIC.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
