"""Run names as Prefect spells them: ``@task(task_run_name="add-{x}-{y}")``,
``@flow(flow_run_name=lambda: f"etl-{date.today()}")`` (src/prefect/tasks.py,
docs.prefect.io/v3/how-to-guides/workflows/custom-metadata).

A name is a `str.format` template over the call's parameters, or a callable returning a
str, called with no arguments, or with ``parameters=`` (the bound parameters) when it
takes that keyword -- Prefect's two forms. It is rendered when the run is created and
becomes the record's ``task_run_name`` / ``flow_run_name`` (shown by the CLI and the
dashboard, read by ``tasks_core.runtime.task_run.name``); the task's or flow's own name
stays the record's ``name``.

Errors: a template naming a parameter the function does not have is refused when the
decorator runs (ConfigurationError naming it); a callable that raises or returns a
non-str fails the call with ConfigurationError before any run is recorded.
"""

from __future__ import annotations

import inspect
import string
from collections.abc import Callable, Mapping
from typing import Any

from tasks_core.errors import ConfigurationError

__all__ = ["RunName", "render_run_name", "run_name_option"]

RunName = str | Callable[..., str]
MAX_NAME_CHARS = 200


def run_name_option(owner: str, option: str, value: object,
                    signature: inspect.Signature) -> RunName | None:
    """A validated `task_run_name` / `flow_run_name` (`option`) of `owner`.

    Raises:
        ConfigurationError: not a str or callable; a template that does not parse or names
            a parameter `signature` lacks (each named).
    """
    if value is None:
        return None
    if callable(value):
        return value
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"{owner}: {option} must be a non-empty str template or a callable, got {value!r}")
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        raise ConfigurationError(f"{owner}: {option} {value!r} is not a template ({exc})") \
            from None
    for field in fields:
        root = field.split(".", 1)[0].split("[", 1)[0]
        if not root or root.isdigit():
            raise ConfigurationError(
                f"{owner}: {option} {value!r} must name parameters ({{x}}), not positions")
        if root not in signature.parameters and not takes_any:
            raise ConfigurationError(
                f"{owner}: {option} {value!r} names {root!r}, which is not a parameter "
                f"(parameters: {', '.join(signature.parameters) or 'none'})")
    return value


def render_run_name(owner: str, option: str, name: RunName,
                    parameters: Mapping[str, Any]) -> str:
    """The run's name from its template or callable and its bound parameters.

    Raises:
        ConfigurationError: the callable raised or returned something other than a str, or
            the template could not be filled (the reason named).
    """
    try:
        if callable(name):
            takes = _takes_parameters(name)
            value = name(parameters=dict(parameters)) if takes else name()
        else:
            value = name.format(**parameters)
    except Exception as exc:
        raise ConfigurationError(
            f"{owner}: {option} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"{owner}: {option} must give a non-empty str, got {value!r}")
    return value[:MAX_NAME_CHARS]


def _takes_parameters(fn: Callable[..., Any]) -> bool:
    try:
        return "parameters" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
