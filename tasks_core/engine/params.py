"""Arguments <-> JSON parameters: bind to the signature, check JSON, and call back."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from tasks_core.errors import ParameterError

__all__ = ["bind_parameters", "call_arguments", "dumps_parameters"]


def bind_parameters(
    fn: Callable[..., Any], sig: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Bind arguments to the signature; TypeError (ParameterError) naming what does not fit."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise ParameterError(f"{fn.__qualname__}{sig}: {exc}") from None
    return dict(bound.arguments)


def dumps_parameters(name: str, parameters: dict[str, Any], max_bytes: int) -> str:
    """The parameters as JSON; raises naming the first argument that is not JSON."""
    try:
        text = json.dumps(parameters, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        for key, value in parameters.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ParameterError(
                    f"argument {key!r} of {name} is not JSON-serialisable "
                    f"({type(value).__name__}: {exc}); pass plain data (str, int, float, bool, "
                    "None, list, dict)"
                ) from None
        raise
    if len(text) > max_bytes:
        raise ParameterError(
            f"arguments of {name} are {len(text)} bytes of JSON, over the limit of {max_bytes} "
            "(TASKS_CORE_PARAMETERS_MAX_BYTES); pass a reference (a path or key) instead"
        )
    return text


def call_arguments(
    sig: inspect.Signature, parameters: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments that reproduce a bound parameters dict."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    positional = True  # False once a parameter that could be positional was left out
    for name, param in sig.parameters.items():
        if name not in parameters:
            positional = positional and param.kind not in (
                param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
            continue
        value = parameters[name]
        if param.kind is param.POSITIONAL_ONLY:
            args.append(value)
        elif param.kind is param.VAR_POSITIONAL:
            args.extend(value)
        elif param.kind is param.VAR_KEYWORD:
            kwargs.update(value)
        elif param.kind is param.POSITIONAL_OR_KEYWORD and positional:
            args.append(value)
        else:
            kwargs[name] = value
    return args, kwargs
