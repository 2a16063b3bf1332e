"""Pins the public API: `from tasks_core import ...` offers exactly these names."""

from __future__ import annotations

import importlib

import pytest

import tasks_core

PUBLIC = [
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
    "StateName",
    "StateType",
    "StoreUnavailable",
    "Task",
    "TaskCancelled",
    "TaskFuture",
    "TaskNotFound",
    "TasksCoreError",
    "TimedOutRun",
    "cancel_run",
    "deploy",
    "emit_event",
    "exponential_backoff",
    "flow",
    "get_run_logger",
    "pause_flow_run",
    "resume_flow_run",
    "run_deployment",
    "serve",
    "suspend_flow_run",
    "task",
    "wait_all",
]


def test_all_is_pinned() -> None:
    # Changing the public API is deliberate: update this list (and the docs) with it.
    assert sorted(tasks_core.__all__) == PUBLIC
    assert len(set(tasks_core.__all__)) == len(tasks_core.__all__)


def test_all_is_sorted() -> None:
    assert list(tasks_core.__all__) == sorted(tasks_core.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_each_name_is_importable(name: str) -> None:
    module = importlib.import_module("tasks_core")
    assert getattr(module, name) is not None
    namespace: dict[str, object] = {}
    exec(f"from tasks_core import {name}", namespace)
    assert namespace[name] is getattr(tasks_core, name)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from tasks_core import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == PUBLIC


def test_errors_share_the_base_class() -> None:
    for name in PUBLIC:
        obj = getattr(tasks_core, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and name != "TasksCoreError":
            assert issubclass(obj, tasks_core.TasksCoreError), name
