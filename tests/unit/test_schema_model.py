"""Deployment parameters checked from a stored schema (tasks_core/engine/schema_model.py).

The property: for annotated flow functions covering the types a schema can carry,
`check_parameters(ParameterSpec(fn).schema(), params)` accepts exactly when
`ParameterSpec(fn).coerce(params)` does, and names the same bad parameters.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import TypedDict

from tasks_core.engine.codec import Problem
from tasks_core.engine.parameters import ParameterSpec
from tasks_core.engine.schema_model import check_parameters, find_problems, model_from_schema
from tasks_core.errors import ParameterError


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Size(enum.Enum):  # a plain enum of ints: refuses "1", unlike an IntEnum
    SMALL = 1
    LARGE = 2


class Point(pydantic.BaseModel):
    x: int
    y: float = 0.0


class Strict(pydantic.BaseModel, extra="forbid"):
    name: str


@dataclasses.dataclass
class Window:
    start: date
    end: date | None = None


class Options(TypedDict, total=False):
    depth: int
    label: str


def scalars(n: int, x: float, s: str, flag: bool, nothing: None = None,
            maybe: int | None = None, either: int | str = 0) -> None: ...


def containers(names: list[str], ids: set[int], pair: tuple[int, str],
               counts: dict[str, int], anything: Any = None, frozen: frozenset[str] = frozenset()
               ) -> None: ...


def temporal(day: date, when: datetime, at: time, gap: timedelta, key: UUID,
             amount: Decimal, where: Path) -> None: ...


def structured(point: Point, window: Window, options: Options, strict: Strict | None = None,
               color: Color = Color.RED, level: Level = Level.LOW, size: Size = Size.SMALL,
               mode: Literal["fast", "slow"] = "fast", one: Literal[1] = 1) -> None: ...


def constrained(pos: Annotated[int, pydantic.Field(ge=0, lt=10)],
                code: Annotated[str, pydantic.Field(min_length=2, max_length=4,
                                                    pattern="^[a-z]+$")],
                few: Annotated[list[int], pydantic.Field(min_length=1, max_length=3)],
                ratio: Annotated[float, pydantic.Field(gt=0, le=1)] = 0.5,
                price: Annotated[Decimal, pydantic.Field(ge=0)] = Decimal(1)) -> None: ...


def variadic(a: int, *rest: int, b: str = "x", **extra: Any) -> None: ...


FUNCTIONS: list[Callable[..., Any]] = [scalars, containers, temporal, structured, constrained,
                                       variadic]

numeric_text = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["1.5", "1.0", " 7 ", "1_000", "1e3", "nan", "inf", "-0", "0x10", "", "2"]))
temporal_text = st.one_of(
    st.dates().map(date.isoformat), st.datetimes().map(datetime.isoformat),
    st.times().map(time.isoformat), st.uuids().map(str),
    st.sampled_from(["PT1H", "P1D", "2024-03-01", "2024-03-01T10:00:00Z", "10:30", "/tmp/x"]))
words = st.sampled_from(["red", "blue", "fast", "slow", "ab", "abcde", "A", "true", "yes", "x"])
scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-20, 20), st.integers(),
    st.floats(allow_nan=False, allow_infinity=False), numeric_text, temporal_text, words,
    st.text(max_size=6))
json_like = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["x", "y", "start", "end", "depth", "label", "name",
                                         "z"]), inner, max_size=4)),
    max_leaves=8)


def _dicts(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with some of these keys (and sometimes a stray one)."""
    keys = {**fields, "other": scalar}
    return st.fixed_dictionaries({}, optional=keys)


ints_ish = st.one_of(st.integers(-3, 12), st.integers(-3, 12).map(str), st.sampled_from(
    [1.0, 2.5, "2.5", True, None]))
# values near each parameter's type (valid and just invalid), so acceptance is common
NEAR: dict[str, st.SearchStrategy[Any]] = {
    "n": ints_ish, "x": st.one_of(ints_ish, numeric_text), "s": words, "flag": st.one_of(
        st.booleans(), st.sampled_from(["yes", "no", "1", "0", 1, 0, 2, "maybe"])),
    "nothing": st.sampled_from([None, "", 0, "null"]), "maybe": st.one_of(st.none(), ints_ish),
    "either": st.one_of(ints_ish, words),
    "names": st.lists(st.one_of(words, st.integers(0, 3)), max_size=3),
    "ids": st.lists(ints_ish, max_size=3), "frozen": st.lists(words, max_size=3),
    "pair": st.lists(st.one_of(ints_ish, words), max_size=3),
    "counts": st.dictionaries(words, ints_ish, max_size=3), "anything": json_like,
    "day": temporal_text, "when": st.one_of(temporal_text, st.integers(0, 2**31)),
    "at": temporal_text, "gap": st.one_of(temporal_text, ints_ish), "key": temporal_text,
    "amount": st.one_of(numeric_text, ints_ish, words), "where": st.one_of(temporal_text, words),
    "point": _dicts(x=ints_ish, y=st.one_of(ints_ish, numeric_text)),
    "window": _dicts(start=temporal_text, end=st.one_of(st.none(), temporal_text)),
    "options": _dicts(depth=ints_ish, label=st.one_of(words, st.integers(0, 2))),
    "strict": st.one_of(st.none(), _dicts(name=st.one_of(words, st.integers(0, 2)))),
    "color": st.one_of(words, ints_ish), "level": ints_ish, "size": ints_ish,
    "mode": words, "one": ints_ish,
    "pos": ints_ish, "code": st.text("abAB1", max_size=6),
    "few": st.lists(ints_ish, max_size=4), "ratio": st.one_of(
        st.floats(-0.5, 1.5), st.sampled_from([0, 1, "1", "0.5", "0"])),
    "price": st.one_of(numeric_text, ints_ish, st.sampled_from(["-1", "0.00", "1e2", "abc"])),
    "a": ints_ish, "rest": st.one_of(st.lists(ints_ish, max_size=2), ints_ish),
    "b": words, "extra": st.one_of(_dicts(k=scalar), scalar),
}


@functools.cache
def _spec_and_schema(fn: Callable[..., Any]) -> tuple[ParameterSpec, dict[str, Any]]:
    spec = ParameterSpec(fn, owner=f"flow {fn.__name__!r}")
    return spec, json.loads(json.dumps(spec.schema()))  # as stored: JSON text and back


@st.composite
def parameters_for(draw: st.DrawFn, fn: Callable[..., Any]) -> dict[str, Any]:
    """Some or all of fn's parameter names (sometimes an unknown one), each with a value near
    its type or any JSON-like value."""
    names = list(_spec_and_schema(fn)[0].signature.parameters)
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(names), unique=True))
    if draw(st.integers(0, 9)) == 0:
        names.append("unexpected")
    return {name: draw(st.one_of(NEAR.get(name, json_like), json_like) if draw(
        st.integers(0, 3)) == 0 else NEAR.get(name, json_like)) for name in names}


def _problem_names(problems: list[Problem]) -> set[str]:
    return {problem.parameter for problem in problems}


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.__name__)
@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_schema_check_agrees_with_coercion(fn: Callable[..., Any], data: st.DataObject) -> None:
    spec, schema = _spec_and_schema(fn)
    params = data.draw(parameters_for(fn))
    by_flow = spec.problems(params)
    by_schema = find_problems(schema, params)
    assert _problem_names(by_schema) == _problem_names(by_flow), (by_schema, by_flow)
    try:
        spec.coerce(params)
        flow_accepts = True
    except ParameterError:
        flow_accepts = False
    try:
        check_parameters(schema, params, "etl/daily")
        schema_accepts = True
    except ParameterError:
        schema_accepts = False
    assert schema_accepts == flow_accepts


GOOD: dict[Callable[..., Any], dict[str, Any]] = {
    scalars: {"n": "1", "x": "2.5", "s": "a", "flag": "yes", "maybe": None, "either": "b"},
    containers: {"names": ["a"], "ids": [1, 1, "2"], "pair": [1, "a"], "counts": {"a": 1}},
    temporal: {"day": "2024-03-01", "when": "2024-03-01T10:00:00", "at": "10:30",
               "gap": "PT1H", "key": "12345678-1234-5678-1234-567812345678",
               "amount": "1.25", "where": "/tmp/x"},
    structured: {"point": {"x": "1"}, "window": {"start": "2024-01-01"}, "options": {},
                 "strict": {"name": "n"}, "color": "blue", "level": "2", "size": 2,
                 "mode": "slow"},
    constrained: {"pos": 9, "code": "abc", "few": [1, 2, 3], "ratio": 1, "price": "0"},
    variadic: {"a": 1, "rest": [2, 3], "extra": {"k": 1}, "flat": "kept"},
}


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.__name__)
def test_valid_parameters_pass_both(fn: Callable[..., Any]) -> None:
    """The property is not vacuous: real-world good parameters pass both checks."""
    spec = ParameterSpec(fn, owner="flow")
    spec.coerce(GOOD[fn])
    check_parameters(spec.schema(), GOOD[fn], "etl/daily")


@pytest.mark.parametrize(
    ("fn", "bad", "names"),
    [
        (scalars, {"n": "1.5", "x": 1, "s": "a", "flag": True}, {"n"}),
        (containers, {"names": [1, 2], "ids": [], "pair": [1, "a"], "counts": {}}, {"names"}),
        (containers, {"names": [], "ids": [], "pair": [1, "a", 3], "counts": {"a": "x"}},
         {"pair", "counts"}),
        (temporal, {**GOOD[temporal], "amount": "abc", "day": "2024-13-01"}, {"amount", "day"}),
        (structured, {**GOOD[structured], "size": "2", "one": 2}, {"size", "one"}),
        (structured, {**GOOD[structured], "strict": {"name": "n", "other": 1}}, {"strict"}),
        (constrained, {**GOOD[constrained], "pos": 10, "code": "ABC", "few": []},
         {"pos", "code", "few"}),
        (scalars, {"x": 1.0, "s": "a", "flag": True, "bogus": 1}, {"n", "bogus"}),
    ],
)
def test_bad_parameters_are_named_by_both(
    fn: Callable[..., Any], bad: dict[str, Any], names: set[str]
) -> None:
    spec = ParameterSpec(fn, owner="flow")
    assert _problem_names(spec.problems(bad)) == names
    assert _problem_names(find_problems(spec.schema(), bad)) == names


def etl(n: int, names: list[str]) -> None: ...


def test_string_float_for_int_and_ints_for_list_of_str_are_refused() -> None:
    schema = ParameterSpec(etl, owner="flow 'etl'").schema()
    with pytest.raises(ParameterError) as info:
        check_parameters(schema, {"n": "1.5", "names": ["a"]}, "etl/daily")
    message = str(info.value)
    assert message.startswith("invalid parameters for deployment 'etl/daily': n: ")
    assert "'1.5'" in message and "names" not in message
    with pytest.raises(ParameterError) as info:
        check_parameters(schema, {"n": 1, "names": [1, 2]}, "etl/daily")
    assert "names.0: Input should be a valid string (got 1)" in str(info.value)
    assert "n:" not in str(info.value)
    check_parameters(schema, {"n": "1", "names": ["a"]}, "etl/daily")  # "1" coerces, as in the flow


def test_unknown_missing_and_messages_match_the_flow() -> None:
    spec = ParameterSpec(etl, owner="deployment 'etl/daily'")
    params = {"names": "x" * 5_000_000, "colour": 1}
    with pytest.raises(ParameterError) as by_flow:
        spec.coerce(params)
    with pytest.raises(ParameterError) as by_schema:
        check_parameters(spec.schema(), params, "etl/daily")
    assert str(by_schema.value) == str(by_flow.value)
    assert "colour: unknown parameter (expected one of: n, names)" in str(by_flow.value)
    assert "n: required parameter missing" in str(by_flow.value)
    assert len(str(by_schema.value)) < 500


def test_additional_properties_allow_unknown_names() -> None:
    schema = ParameterSpec(variadic, owner="flow").schema()
    assert schema["additionalProperties"] is True
    check_parameters(schema, {"a": 1, "anything": object()}, "d")
    with pytest.raises(ParameterError, match="unknown parameter"):
        check_parameters(ParameterSpec(etl, owner="flow").schema(), {"n": 1, "names": [],
                                                                     "zz": 1}, "d")


def test_odd_schemas_never_raise_and_fall_back_to_any() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "rec": {"$ref": "#/$defs/Node"}, "gone": {"$ref": "#/$defs/Missing"},
            "email": {"type": "string", "format": "email"}, "neg": {"not": {"type": "string"}},
            "both": {"allOf": [{"type": "string"}, {"minLength": 2}]},
            "bad_re": {"type": "string", "pattern": "(?<=x"}, "weird": {"type": "quaternion"},
            "tail": {"type": "array", "prefixItems": [{"type": "integer"}],
                     "items": {"type": "string"}},
            "flag": {"enum": [1, 2], "type": "integer", "x-enum-kind": "other"},
            "mixed": {"enum": [1, "a"]}, "nested_list": {"enum": [[1], [2]]},
        },
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
    }
    model = model_from_schema(schema, "odd")
    anything: dict[str, Any] = {name: object() for name in schema["properties"]}
    anything.update(rec={"child": object()}, mixed=1)
    model.model_validate(anything)
    check_parameters(schema, {"mixed": "a"}, "d")
    with pytest.raises(ParameterError, match="mixed"):
        check_parameters(schema, {"mixed": "b"}, "d")
    for junk in ({}, {"type": "array"}, {"properties": "nope"}, {"properties": {"a": 5}}):
        model_from_schema(junk, "junk")
        assert find_problems(junk, {"a": 1}) in ([], [Problem("a", "a: unknown parameter "
                                                             "(expected one of: none)")])


def test_models_are_cached_by_schema_text() -> None:
    schema = ParameterSpec(etl, owner="flow").schema()
    assert model_from_schema(schema, "m") is model_from_schema(json.loads(json.dumps(schema)), "m")


def test_unmarked_enums_and_decimals_rebuild_loosely() -> None:
    """A schema from plain pydantic (no markers) must never be stricter than the flow."""
    stored = {"type": "object", "properties": {
        "level": {"enum": [1, 2], "type": "integer"},          # IntEnum or plain Enum of ints
        "amount": {"anyOf": [{"type": "number"}, {"type": "string"}]},  # Decimal or float|str
    }}
    check_parameters(stored, {"level": "1", "amount": "anything"}, "d")
    with pytest.raises(ParameterError, match="level"):
        check_parameters(stored, {"level": 3}, "d")
