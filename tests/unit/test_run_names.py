"""Run names (tasks_core.run_names): template checks when the decorator runs, rendering."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from tasks_core.errors import ConfigurationError
from tasks_core.run_names import render_run_name, run_name_option


def add(x: int, y: int = 2) -> int:
    return x + y


def anything(**kwargs: Any) -> None:
    return None


SIG = inspect.signature(add)


def test_templates_are_checked_against_the_signature() -> None:
    assert run_name_option("task add", "task_run_name", "add-{x}-{y}", SIG) == "add-{x}-{y}"
    assert run_name_option("task add", "task_run_name", None, SIG) is None
    with pytest.raises(ConfigurationError, match="names 'z', which is not a parameter"):
        run_name_option("task add", "task_run_name", "add-{z}", SIG)
    with pytest.raises(ConfigurationError, match="not positions"):
        run_name_option("task add", "task_run_name", "add-{0}", SIG)
    with pytest.raises(ConfigurationError, match="is not a template"):
        run_name_option("task add", "task_run_name", "add-{x", SIG)
    with pytest.raises(ConfigurationError, match="must be a non-empty str template"):
        run_name_option("task add", "task_run_name", 5, SIG)
    assert run_name_option("f", "flow_run_name", "{anything}",
                           inspect.signature(anything)) == "{anything}"


def test_rendering_templates_and_both_callable_forms() -> None:
    assert render_run_name("t", "task_run_name", "add-{x}-{y}", {"x": 1, "y": 2}) == "add-1-2"
    assert render_run_name("t", "task_run_name", lambda: "fixed", {}) == "fixed"

    def from_parameters(parameters: dict[str, Any]) -> str:
        return f"n{len(parameters)}"

    assert render_run_name("t", "task_run_name", from_parameters, {"a": 1, "b": 2}) == "n2"
    assert len(render_run_name("t", "task_run_name", "x" * 500, {})) == 200


def test_rendering_errors_name_the_option() -> None:
    with pytest.raises(ConfigurationError, match="t: task_run_name failed: KeyError"):
        render_run_name("t", "task_run_name", "add-{x}", {})
    with pytest.raises(ConfigurationError, match="must give a non-empty str, got 3"):
        render_run_name("t", "task_run_name", lambda: 3, {})

    def broken() -> str:
        raise ValueError("no name today")

    with pytest.raises(ConfigurationError, match="ValueError: no name today"):
        render_run_name("t", "flow_run_name", broken, {})
