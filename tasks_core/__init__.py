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
"""

import importlib
from typing import Any

from tasks_core.annotations import allow_failure, quote, unmapped
from tasks_core.deployments import deploy, run_deployment, serve
from tasks_core.engine.by_name import send_task
from tasks_core.engine.cancel import cancel_purged as _cancel_purged
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
from tasks_core.store import transport as _transport
from tasks_core.suspending import suspend_flow_run
from tasks_core.task import Task, exponential_backoff, task

_transport.on_purged[:] = [_cancel_purged]  # Celery's purge cancels the purged runs

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


_PREFECT_MODULES = {"cache_policies", "context", "filesystems", "flows", "logging", "runtime",
                    "tasks"}
"""Read as ``tasks_core.runtime.flow_run.id`` after ``import tasks_core`` (Prefect's
``prefect.runtime...`` ported by the import line): imported on first read."""


def __getattr__(name: str) -> Any:
    """`tasks_core.app`: the Celery app for ``celery -A tasks_core`` (built on first read);
    the Prefect-path modules (`_PREFECT_MODULES`), imported on first read."""
    if name == "app":
        from tasks_core.celery_cli import cli_app

        return cli_app()
    if name in _PREFECT_MODULES:
        return importlib.import_module(f"tasks_core.{name}")
    raise AttributeError(f"module 'tasks_core' has no attribute {name!r}")
