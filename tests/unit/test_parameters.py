"""The parameter path and result codec: tasks_core/engine/{codec,parameters,results}.py."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pydantic
import pytest

from tasks_core.engine.codec import clip_repr, depth_of, safe_text, to_json, type_name
from tasks_core.engine.parameters import (
    ParameterSpec,
    call_arguments,
    encode_checked,
    return_annotation,
)
from tasks_core.engine.results import decode_result, encode_result, render_result
from tasks_core.errors import ParameterError, ResultError

MB = 1_000_000


def nested(levels: int) -> list[Any]:
    """A list nested `levels` deep, built without recursion."""
    top: list[Any] = []
    current = top
    for _ in range(levels - 1):
        inner: list[Any] = []
        current.append(inner)
        current = inner
    return top


class Color(enum.Enum):
    RED = "red"


class Point(pydantic.BaseModel):
    x: int
    y: float = 0.0


@dataclasses.dataclass
class Window:
    start: date
    end: date | None = None


class Opaque:
    pass


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def etl(when: datetime, day: date, key: UUID, amount: Decimal, color: Color, point: Point,
        window: Window, names: list[str] | None = None, n: int = 1) -> None: ...


ETL = ParameterSpec(etl, owner="flow 'etl'")
ETL_ARGS: dict[str, Any] = {
    "when": datetime(2024, 3, 1, 10), "day": date(2024, 3, 1), "key": UUID(int=7),
    "amount": Decimal("1.25"), "color": Color.RED, "point": Point(x=1, y=2.5),
    "window": Window(date(2024, 1, 1), date(2024, 2, 1))}


def anything(*args: Any, **kwargs: Any) -> None: ...


ANY = ParameterSpec(anything, owner="task 'anything'")


# --- codec ---------------------------------------------------------------------------


def test_to_json_covers_rich_types() -> None:
    text = to_json({"when": datetime(2024, 3, 1, 10), "gap": timedelta(hours=1), "u": UUID(int=1),
                    "d": Decimal("1.5"), "c": Color.RED, "p": Point(x=1), "s": {3},
                    "t": (1, 2), "path": Path("/a"), "b": b"hi", "w": Window(date(2024, 1, 1))})
    assert json.loads(text) == {
        "when": "2024-03-01T10:00:00", "gap": "PT1H", "u": str(UUID(int=1)), "d": "1.5",
        "c": "red", "p": {"x": 1, "y": 0.0}, "s": [3], "t": [1, 2], "path": "/a", "b": "hi",
        "w": {"start": "2024-01-01", "end": None}}


@pytest.mark.parametrize("value", [math.nan, [math.inf], {"x": -math.inf}, object(), b"\xff",
                                   "lone \ud800", nested(5_000)])
def test_to_json_refuses_what_json_cannot_hold(value: Any) -> None:
    with pytest.raises(ValueError):
        to_json(value)


def test_to_json_keeps_strings_that_look_like_constants() -> None:
    assert to_json({"NaN": "Infinity"}) == '{"NaN":"Infinity"}'


def test_depth_of_is_iterative_and_stops_at_the_limit() -> None:
    values: list[Any] = [1, [], [1], {"a": [1]}, [Point(x=1)], (set(),)]
    assert [depth_of(value, 10) for value in values] == [0, 1, 1, 2, 2, 2]
    assert depth_of(nested(10_000), 100) == 101
    assert depth_of(nested(10_000), 20_000) == 10_000
    cycle: list[Any] = []
    cycle.append(cycle)
    assert depth_of(cycle, 50) == 51


def test_clip_repr_is_short_and_never_raises() -> None:
    assert clip_repr(BadRepr()).startswith("<BadRepr instance")
    assert clip_repr(nested(10_000)) == "[[[[...]]]]"
    for huge in ("x" * 20 * MB, list(range(MB)), 10**5000, {i: i for i in range(10**5)}):
        assert len(clip_repr(huge)) <= 200
    assert clip_repr("abcdef", limit=5) == "'a..."


def test_safe_text_replaces_lone_surrogates() -> None:
    assert safe_text("a\ud800b") == "a\\ud800b"
    assert safe_text("é") == "é"


# --- bind, coerce -----------------------------------------------------------------------


def test_flow_datetime_parameter_is_coerced_then_encoded() -> None:
    def report(when: datetime) -> None: ...

    spec = ParameterSpec(report, owner="flow 'report'")
    coerced = spec.coerce(spec.bind(("2024-03-01T10:00:00",), {}))
    assert coerced == {"when": datetime(2024, 3, 1, 10)}
    assert spec.encode(coerced, max_bytes=MB, max_depth=64) == '{"when":"2024-03-01T10:00:00"}'
    assert ANY.encode({"args": (date(2024, 3, 1),)}, max_bytes=MB, max_depth=64) == \
        '{"args":["2024-03-01"]}'


def test_coerce_is_pydantic_lax_mode() -> None:
    def f(n: int, names: list[str]) -> None: ...

    spec = ParameterSpec(f, owner="flow 'f'")
    assert spec.coerce({"n": "1", "names": ("a",)}) == {"n": 1, "names": ["a"]}
    with pytest.raises(ParameterError) as info:
        spec.coerce({"n": "1.5", "names": [1, 2]})
    message = str(info.value)
    assert message.startswith("invalid parameters for flow 'f': ")
    assert "n: Input should be a valid integer" in message and "(got '1.5')" in message
    assert "names.0: Input should be a valid string (got 1) (and 1 more)" in message


def test_coerce_returns_only_the_given_names_and_leaves_defaults_alone() -> None:
    assert ETL.coerce({**ETL_ARGS, "n": "3"})["n"] == 3
    assert "names" not in ETL.coerce(ETL_ARGS)


def test_a_huge_wrong_value_gives_a_short_message() -> None:
    def f(n: int, names: list[str]) -> None: ...

    spec = ParameterSpec(f, owner="flow 'f'")
    for bad in ({"n": "x" * 20 * MB, "names": []}, {"n": 1, "names": "x" * 20 * MB},
                {"n": list(range(2 * MB)), "names": []}):
        with pytest.raises(ParameterError) as info:
            spec.coerce(bad)
        assert len(str(info.value)) < 400


def test_unknown_names_are_refused_unless_kwargs() -> None:
    def f(a: int) -> None: ...

    with pytest.raises(ParameterError, match=r"b: unknown parameter \(expected one of: a\)"):
        ParameterSpec(f, owner="task 'f'").coerce({"a": 1, "b": 2})
    assert ANY.coerce({"args": [1], "kwargs": {"x": 1}, "flat": 2}) == {
        "args": [1], "kwargs": {"x": 1}, "flat": 2}


def test_validate_false_passes_parameters_through() -> None:
    def f(n: int) -> None: ...

    spec = ParameterSpec(f, owner="task 'f'", validate=False)
    assert spec.coerce({"n": "nope"}) == {"n": "nope"}
    assert spec.schema()["properties"] == {"n": {}}


def test_bind_names_the_function_and_signature() -> None:
    def add(a: int, b: int) -> int:
        return a + b

    spec = ParameterSpec(add, owner="task 'add'")
    assert spec.bind((1,), {"b": 2}) == {"a": 1, "b": 2}
    with pytest.raises(ParameterError, match=r"\.add\(a: .*, b: .*\) -> .*: got an unexpected "
                                             "keyword argument 'c'"):
        spec.bind((1, 2), {"c": 3})


def test_check_partial_ignores_missing_but_not_wrong() -> None:
    ETL.check_partial({"n": "2"})
    with pytest.raises(ParameterError, match="n: Input should be a valid integer"):
        ETL.check_partial({"n": "two"})
    with pytest.raises(ParameterError, match="bogus: unknown parameter"):
        ETL.check_partial({"bogus": 1})


def test_odd_annotations_and_names_never_break_building() -> None:
    def odd(a: Undefined, b: 5, c: list[Undefined], _private: int = 0,  # type: ignore[name-defined, valid-type]  # noqa: F821
            model_config: str = "", schema: Callable[[], object] = object) -> None: ...

    spec = ParameterSpec(odd, owner="task 'odd'")
    thing = object()
    assert spec.coerce({"a": thing, "b": "x", "c": [thing], "_private": "3"})["_private"] == 3
    properties = spec.schema()["properties"]
    assert set(properties) == {"a", "b", "c", "_private", "model_config", "schema"}
    assert properties["_private"]["default"] == 0 and "default" not in properties["schema"]
    assert spec.schema()["required"] == ["a", "b", "c"]


def test_schema_keeps_required_and_json_defaults() -> None:
    schema = ETL.schema()
    assert schema["required"] == ["when", "day", "key", "amount", "color", "point", "window"]
    assert schema["properties"]["n"]["default"] == 1
    assert schema["properties"]["names"]["default"] is None
    assert schema["additionalProperties"] is False
    assert schema["properties"]["when"]["format"] == "date-time"
    json.dumps(schema)


# --- encode, decode ---------------------------------------------------------------------


def test_rich_values_round_trip_through_encode_and_decode() -> None:
    text = ETL.encode(ETL_ARGS, max_bytes=MB, max_depth=64)
    args, kwargs = ETL.decode(text)
    assert args == list(ETL_ARGS.values()) and kwargs == {}
    assert isinstance(args[0], datetime) and isinstance(args[2], UUID)
    assert isinstance(args[5], Point) and isinstance(args[6], Window)


def test_encode_refuses_deep_values_naming_the_parameter() -> None:
    with pytest.raises(ParameterError) as info:
        ANY.encode({"kwargs": {"ok": 1, "deep": nested(10_000)}}, max_bytes=MB, max_depth=64)
    assert "'kwargs'" in str(info.value) and "TASKS_CORE_PARAMETERS_MAX_DEPTH" in str(info.value)
    assert len(str(info.value)) < 400
    with pytest.raises(ParameterError, match="deeper than 254"):  # JSON's own limit applies
        ANY.encode({"args": nested(500)}, max_bytes=MB, max_depth=10_000)


def test_encode_refuses_oversize_naming_the_biggest() -> None:
    with pytest.raises(ParameterError) as info:
        ANY.encode({"args": [1], "kwargs": {"rows": list(range(400_000))}},
                   max_bytes=MB, max_depth=64)
    message = str(info.value)
    assert "largest is 'kwargs'" in message and "TASKS_CORE_PARAMETERS_MAX_BYTES" in message
    assert f"limit of {MB}" in message and len(message) < 500


@pytest.mark.parametrize("value", [Opaque(), math.nan, b"\xff"])
def test_encode_refuses_non_json_naming_parameter_and_type(value: Any) -> None:
    with pytest.raises(ParameterError) as info:
        ANY.encode({"args": [1], "kwargs": {"v": value}}, max_bytes=MB, max_depth=64)
    assert "'kwargs'" in str(info.value) and "no JSON form" in str(info.value)
    assert "dict" in str(info.value)


def test_encode_checked_works_without_a_function() -> None:
    owner = "deployment 'etl/daily'"
    assert encode_checked({"day": date(2024, 3, 1)}, owner=owner, max_bytes=MB,
                          max_depth=8) == '{"day":"2024-03-01"}'
    with pytest.raises(ParameterError, match="parameter 'rows' of deployment 'etl/daily'"):
        encode_checked({"rows": [[[1]]]}, owner=owner, max_bytes=MB, max_depth=2)


def test_positional_only_args_and_kwargs_round_trip() -> None:
    def everything(a: int, /, b: int = 2, *rest: int, c: date, **options: Any) -> Any:
        return (a, b, rest, c, options)

    spec = ParameterSpec(everything, owner="task 'everything'")
    bound = spec.bind((1, 5, 6, 7), {"c": "2024-03-01", "x": 1})
    args, kwargs = spec.decode(spec.encode(spec.coerce(bound), max_bytes=MB, max_depth=64))
    assert everything(*args, **kwargs) == (1, 5, (6, 7), date(2024, 3, 1), {"x": 1})


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"a": 1}, ([1], {})),
        ({"a": 1, "d": 4}, ([1], {"d": 4})),
        ({"a": 1, "b": 2, "d": 4}, ([1, 2], {"d": 4})),
        ({"a": 1, "rest": [9]}, ([1, 2, 9], {})),  # b's default fills the gap before *rest
        ({"a": 1, "flat": 3}, ([1], {"flat": 3})),  # names the signature lacks go to **kw
        ({"a": 1, "kw": {"x": 1}}, ([1], {"x": 1})),
    ],
)
def test_call_arguments(parameters: dict[str, Any], expected: Any) -> None:
    def f(a: int, /, b: int = 2, *rest: int, d: int = 0, **kw: Any) -> None: ...

    assert call_arguments(ParameterSpec(f, owner="t").signature, parameters) == expected


def test_call_arguments_refuses_what_cannot_be_called() -> None:
    def f(a: int = 1, b: int = 2, /) -> None: ...

    sig = ParameterSpec(f, owner="t").signature
    assert call_arguments(sig, {"b": 5}) == ([1, 5], {})
    with pytest.raises(ParameterError, match="unknown"):
        call_arguments(sig, {"z": 1})


def test_decode_refuses_placeholders_and_non_json() -> None:
    recorded = ANY.render({"args": [Opaque()]}, max_bytes=MB)
    with pytest.raises(ParameterError, match=r"\['args'\].*placeholders"):
        ANY.decode(recorded)
    for text in ("not json", "[1, 2]"):
        with pytest.raises(ParameterError, match="recorded parameters"):
            ANY.decode(text)


# --- render -----------------------------------------------------------------------------


def test_render_records_everything_as_json() -> None:
    def f(**values: Any) -> None: ...

    rendered = json.loads(ParameterSpec(f, owner="t").render({
        "when": datetime(2024, 3, 1), "where": Path("/tmp"), "ids": {1}, "raw": b"hi",
        "thing": Opaque(), "bad": BadRepr(), "deep": nested(10_000), "nan": math.nan,
    }, max_bytes=MB))
    assert rendered["when"] == "2024-03-01T00:00:00" and rendered["where"] == "/tmp"
    assert rendered["ids"] == [1] and rendered["raw"] == "hi"
    assert rendered["thing"]["__type__"] == f"{__name__}.Opaque"
    assert rendered["bad"]["__repr__"].startswith("<BadRepr instance")
    assert rendered["deep"] == {"__type__": "list", "__repr__": "[[[[...]]]]"}
    assert rendered["nan"] == {"__type__": "float", "__repr__": "nan"}


def test_render_caps_the_text_replacing_the_largest_first() -> None:
    big = list(range(400_000))  # about 2.7 MB of JSON
    text = ANY.render({"args": [1, 2], "kwargs": {"rows": big}}, max_bytes=MB)
    assert len(text.encode()) <= MB
    assert json.loads(text) == {"args": [1, 2], "kwargs": {"__type__": "dict",
                                                          "__repr__": clip_repr({"rows": big})}}
    medium = {"a": "x" * 600, "b": "y" * 500, "c": 1}
    assert set(json.loads(ANY.render(medium, max_bytes=800))) == {"a", "b", "c"}
    assert json.loads(ANY.render(medium, max_bytes=800))["b"] == "y" * 500
    assert json.loads(ANY.render(medium, max_bytes=5)) == {"__omitted__": 3}


def test_render_never_raises_on_a_broken_mapping() -> None:
    class Broken(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError

    assert json.loads(ANY.render(Broken(), max_bytes=MB)) == {"__omitted__": -1}


# --- results ----------------------------------------------------------------------------


def test_results_encode_rich_values_and_decode_with_the_annotation() -> None:
    text = encode_result("task 'when'", datetime(2024, 3, 1, 10), MB)
    # kombu's tagged form (engine.tagged): a datetime comes back a datetime, as in Celery
    assert json.loads(text) == {"__type__": "datetime", "__value__": "2024-03-01T10:00:00"}
    assert decode_result(text, datetime) == datetime(2024, 3, 1, 10)
    assert decode_result(text) == datetime(2024, 3, 1, 10)
    older = '"2024-03-01T10:00:00"'  # stored before: read with the annotation as before
    assert decode_result(older, datetime) == datetime(2024, 3, 1, 10)
    assert decode_result(older) == "2024-03-01T10:00:00"
    assert decode_result('{"x": 1}', Point) == Point(x=1)
    assert decode_result('"not a date"', date) == "not a date"  # plain JSON, no raise
    assert decode_result("[1]", "Unresolvable") == [1]


def test_encode_result_errors_name_owner_type_and_limit() -> None:
    with pytest.raises(ResultError, match=r"result of task 'big': list is \d+ bytes.*"
                                          "TASKS_CORE_RESULT_MAX_BYTES"):
        encode_result("task 'big'", list(range(400_000)), MB)
    with pytest.raises(ResultError, match=r"result of task 'o': .*Opaque has no JSON form"):
        encode_result("task 'o'", Opaque(), MB)
    with pytest.raises(ResultError, match="nested deeper"):
        encode_result("task 'deep'", nested(10_000), MB)
    with pytest.raises(ResultError, match="not JSON"):
        decode_result("{")


def test_render_result_never_raises() -> None:
    assert render_result({"a": 1}, MB) == ('{"a":1}', "")
    text, note = render_result(Opaque(), MB)
    assert text is None and note.startswith("result not stored: ") and "Opaque" in note
    text, note = render_result(nested(10_000), MB)
    assert text is None and "nested deeper" in note
    assert render_result("x" * 100, 10)[0] is None


def test_return_annotation_resolves_or_is_any() -> None:
    async def when() -> datetime:
        return datetime(2024, 3, 1)

    def nothing(): ...  # type: ignore[no-untyped-def]

    def broken() -> Missing: ...  # type: ignore[name-defined]  # noqa: F821

    assert return_annotation(when) is datetime
    assert return_annotation(nothing) is Any and return_annotation(broken) is Any
    assert return_annotation(len) is Any  # a builtin (print may be wrapped by log_prints)


def test_type_name_uses_module_and_qualname() -> None:
    assert type_name(date(2024, 1, 1)) == "datetime.date" and type_name({1}) == "set"
