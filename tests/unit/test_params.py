"""Arguments <-> JSON parameters (tasks_core/engine/params.py)."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from tasks_core.engine.params import bind_parameters, call_arguments, dumps_parameters
from tasks_core.errors import ParameterError


def pos_only(a: int, b: int = 2, /, c: int = 3) -> Any:
    return (a, b, c)


def defaults(a: int, b: int = 2, c: int = 3, d: int = 4) -> Any:
    return (a, b, c, d)


def var_positional(a: int, *rest: int) -> Any:
    return (a, rest)


def var_keyword(a: int, /, **options: Any) -> Any:
    return (a, options)


def keyword_only(a: int, *, flag: bool = False, name: str) -> Any:
    return (a, flag, name)


def everything(a: int, /, b: int = 2, *rest: int, c: int = 3, **options: Any) -> Any:
    return (a, b, rest, c, options)


def _round_trip(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    """Bind, go through JSON as a worker would, rebuild the call; return (result, parameters)."""
    sig = inspect.signature(fn)
    parameters = bind_parameters(fn, sig, args, kwargs)
    stored = json.loads(dumps_parameters(fn.__name__, parameters, 10_000))
    call_args, call_kwargs = call_arguments(sig, stored)
    return fn(*call_args, **call_kwargs), parameters


@pytest.mark.parametrize(
    ("fn", "args", "kwargs"),
    [
        (pos_only, (1,), {}),
        (pos_only, (1, 5), {}),
        (pos_only, (1, 5, 6), {}),
        (defaults, (1,), {}),
        (defaults, (1,), {"c": 30}),  # b skipped (default), then a later keyword
        (defaults, (1,), {"d": 40}),
        (defaults, (1, 20), {"d": 40}),
        (defaults, (), {"a": 1, "d": 40}),
        (var_positional, (1,), {}),
        (var_positional, (1, 2, 3, 4), {}),
        (var_keyword, (1,), {}),
        (var_keyword, (1,), {"x": 1, "y": [1, 2]}),
        (var_keyword, (1,), {"a": "not the positional-only a"}),
        (keyword_only, (1,), {"name": "n"}),
        (keyword_only, (1,), {"name": "n", "flag": True}),
        (everything, (1,), {}),
        (everything, (1, 2, 3, 4), {"c": 5, "z": 6}),
        (everything, (1,), {"c": 5}),
    ],
)
def test_bind_and_call_round_trip(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    result, _ = _round_trip(fn, *args, **kwargs)
    expected = fn(*args, **kwargs)
    # JSON turns tuples into lists; compare through JSON so *args compare equal
    assert json.loads(json.dumps(result)) == json.loads(json.dumps(expected))


def test_defaults_are_not_stored() -> None:
    _, parameters = _round_trip(defaults, 1, d=40)
    assert parameters == {"a": 1, "d": 40}


def test_parameters_are_named_as_in_the_signature() -> None:
    _, parameters = _round_trip(everything, 1, 2, 3, c=5, z=6)
    assert parameters == {"a": 1, "b": 2, "rest": (3,), "c": 5, "options": {"z": 6}}


def test_call_arguments_uses_keywords_after_a_skipped_parameter() -> None:
    sig = inspect.signature(defaults)
    assert call_arguments(sig, {"a": 1, "c": 3}) == ([1], {"c": 3})
    assert call_arguments(sig, {"a": 1, "b": 2}) == ([1, 2], {})


def test_call_arguments_keyword_only() -> None:
    assert call_arguments(inspect.signature(keyword_only), {"a": 1, "name": "n"}) == (
        [1],
        {"name": "n"},
    )


def test_skipped_positional_only_default_is_not_filled_by_a_later_argument() -> None:
    # pos_only(1, c=7) stores {"a": 1, "c": 7}; b (positional-only) keeps its default, so c
    # must be passed by keyword: positionally, 7 would land in b.
    assert call_arguments(inspect.signature(pos_only), {"a": 1, "c": 7}) == ([1], {"c": 7})
    result, _ = _round_trip(pos_only, 1, c=7)
    assert result == (1, 2, 7)


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "fragment"),
    [
        (defaults, (), {}, "missing a required argument: 'a'"),
        (defaults, (1, 2, 3, 4, 5), {}, "too many positional arguments"),
        (defaults, (1,), {"e": 5}, "unexpected keyword argument 'e'"),
        (defaults, (1,), {"a": 1}, "multiple values for argument 'a'"),
        (pos_only, (), {"a": 1}, "'a'"),
        (keyword_only, (1,), {}, "missing a required argument: 'name'"),
        (keyword_only, (1, "n"), {}, "too many positional arguments"),
    ],
)
def test_bind_errors_are_type_errors_naming_the_problem(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(TypeError) as info:
        bind_parameters(fn, inspect.signature(fn), args, kwargs)
    assert isinstance(info.value, ParameterError)
    message = str(info.value)
    assert fragment in message
    assert fn.__qualname__ in message  # names the function, with its signature
    assert str(inspect.signature(fn)) in message


@pytest.mark.parametrize(
    ("value", "type_name"),
    [({1, 2}, "set"), (math.nan, "float"), (math.inf, "float"), (object(), "object"),
     ({"nested": {1}}, "dict"), (b"bytes", "bytes")],
)
def test_dumps_parameters_names_the_bad_argument(value: Any, type_name: str) -> None:
    with pytest.raises(ParameterError) as info:
        dumps_parameters("my_task", {"good": 1, "bad": value}, 10_000)
    message = str(info.value)
    assert "'bad'" in message
    assert "'good'" not in message
    assert "my_task" in message
    assert "not JSON-serialisable" in message
    assert type_name in message


def test_dumps_parameters_is_compact_json() -> None:
    assert dumps_parameters("t", {"a": [1, 2], "b": {"c": None}}, 100) == (
        '{"a":[1,2],"b":{"c":null}}'
    )


def test_dumps_parameters_enforces_max_bytes() -> None:
    parameters = {"blob": "x" * 100}
    size = len(json.dumps(parameters, separators=(",", ":")))
    assert dumps_parameters("t", parameters, size) is not None  # exactly at the limit is fine
    with pytest.raises(ParameterError) as info:
        dumps_parameters("my_task", parameters, size - 1)
    message = str(info.value)
    assert "my_task" in message
    assert f"{size} bytes" in message
    assert str(size - 1) in message
    assert "TASKS_CORE_PARAMETERS_MAX_BYTES" in message


def test_max_bytes_counts_bytes_of_non_ascii_text() -> None:
    # the JSON escapes non-ASCII characters, so its length is its size in bytes
    parameters = {"text": "é" * 10}
    text = dumps_parameters("t", parameters, 1_000)
    assert len(text.encode()) == len(text)
