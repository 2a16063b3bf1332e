"""Low-level helpers shared by parameters (`engine/parameters.py`), results
(`engine/results.py`) and the deployment check (`engine/schema_model.py`): JSON, short
text for messages, and per-parameter validation with one wording of problems.

Invariants:
- `to_json` is pydantic's JSON mode (datetimes, UUIDs, Decimals, enums, models, dataclasses,
  sets, tuples, paths and UTF-8 bytes all have a JSON form) and refuses, with `ValueError`,
  everything JSON cannot hold: unknown types, NaN and infinity, non-UTF-8 bytes, lone
  surrogates, nesting deeper than `JSON_MAX_DEPTH`.
- `depth_of` never recurses, so it is safe on any nesting (and on cycles, given a limit).
- `clip_repr` and `safe_text` never raise and never return more than they are asked for;
  they are what error messages and placeholders quote.
- Parameters are checked one at a time (`FieldChecks`) and problems worded once, for
  `ParameterSpec` and the deployment check alike; a value with thousands of errors costs
  one bounded message: `invalid parameters for flow 'etl': n: Input should be a valid
  integer, unable to parse string as an integer (got '1.5'); names.0: ... (and 9 more)`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import reprlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

import pydantic
import pydantic_core

from tasks_core.errors import ParameterError

__all__ = [
    "JSON_MAX_DEPTH",
    "OMITTED_KEY",
    "FieldChecks",
    "Problem",
    "clip_label",
    "clip_repr",
    "depth_of",
    "parameter_error",
    "placeholder",
    "render_object",
    "safe_text",
    "to_json",
    "type_name",
    "unknown_problems",
]

JSON_MAX_DEPTH = 255
"""pydantic-core refuses to serialize deeper nesting than this; `json.loads` reads anything
up to it within Python's default recursion limit."""

_CONTAINERS = (list, tuple, set, frozenset, dict, pydantic.BaseModel)
_SEQUENCES = frozenset({list, tuple, set, frozenset})
_LEAVES = frozenset({str, int, float, bool, type(None), bytes})
_REASON_LIMIT = 200


def to_json(value: Any) -> str:
    """The JSON text of `value`, in pydantic's JSON mode (compact, UTF-8, not ASCII-escaped).

    Datetimes/dates/times are ISO 8601, timedeltas ISO 8601 durations, UUIDs, Decimals and
    paths strings, enums their values, models and dataclasses objects, sets and tuples
    arrays, bytes UTF-8 strings; dict keys become strings.

    Raises:
        ValueError: `value` has no JSON form; the message says why (an unknown type, NaN or
            infinity, bytes that are not UTF-8, a lone surrogate, nested deeper than both
            the standard library's encoder and pydantic's `JSON_MAX_DEPTH` allow, or an
            error raised by a custom serializer). Plain data goes through `json.dumps`
            first (quicker); everything else through pydantic. `encode_checked` limits the
            depth of parameters on its own, below both.
    """
    try:  # plain data (the common case) is quicker through the standard library
        text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")  # a lone surrogate: pydantic below words the refusal
        return text
    except (TypeError, ValueError, RecursionError):
        pass
    if _holds_iterator(value):  # pydantic would consume it to write it
        raise ValueError("an iterator or generator has no JSON form (writing it would consume "
                         "it); return or pass a list")
    try:
        raw = pydantic_core.to_json(value, inf_nan_mode="constants")
    except RecursionError:
        raise ValueError(f"nested deeper than {JSON_MAX_DEPTH} levels") from None
    except Exception as exc:  # pydantic wraps most failures, custom serializers may not
        raise ValueError(_reason(exc)) from exc
    if (b"NaN" in raw or b"Infinity" in raw) and _has_nan(raw):
        raise ValueError("NaN and infinity have no JSON form")
    if len(raw) > _INT_DIGITS and _LONG_DIGITS.search(raw) and not _reads_back(raw):
        raise ValueError(f"an integer of more than {_INT_DIGITS} digits has no JSON form "
                         "Python reads back (sys.get_int_max_str_digits); pass it as a string")
    return raw.decode("utf-8")


_INT_DIGITS = 4300
"""Python's `json.loads` refuses longer integers (the int/str conversion limit)."""
_LONG_DIGITS = re.compile(rb"\d{%d}" % (_INT_DIGITS + 1))


def _reads_back(raw: bytes) -> bool:
    """Whether `json.loads` reads the text (only asked when a very long digit run is in it,
    which may also be inside a string)."""
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def _holds_iterator(value: Any) -> bool:
    """Whether `value` is, or (within containers, level by level) holds, an iterator."""
    level = [value]
    seen = 0
    while level and seen < 100_000:  # past that, pydantic's own limits apply
        if any(isinstance(item, Iterator) for item in level):
            return True
        seen += len(level)
        groups = [group for group in map(_children, level) if group is not None]
        level = [child for child in chain.from_iterable(groups) if type(child) not in _LEAVES]
    return False


def _reason(exc: Exception) -> str:
    text = str(exc).removeprefix("Error serializing to JSON: ")
    if "Maximum serialization depth" in text:
        return f"nested deeper than {JSON_MAX_DEPTH} levels"
    return safe_text(text)[:_REASON_LIMIT]


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _has_nan(raw: bytes) -> bool:
    """Whether pydantic wrote a bare NaN/Infinity (not merely a string containing it)."""
    try:
        json.loads(raw, parse_constant=_refuse_constant)
    except ValueError:
        return True
    return False


def _children(value: Any) -> Iterable[Any] | None:
    """The nested values of a container, or None for a leaf."""
    kind = type(value)
    if kind in _SEQUENCES:
        return value  # type: ignore[no-any-return]
    if kind is dict:
        return value.values()  # type: ignore[no-any-return]
    if kind in _LEAVES:
        return None
    if isinstance(value, pydantic.BaseModel):
        extra = value.__pydantic_extra__ or {}
        return [*value.__dict__.values(), *extra.values()]
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, _CONTAINERS):
        return value  # subclasses of list, tuple, set, frozenset
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name, None) for f in dataclasses.fields(value)]
    return None


def depth_of(value: Any, limit: int) -> int:
    """Nesting depth of lists, tuples, sets, dicts, pydantic models and dataclasses.

    A scalar is 0, `[1]` is 1, `{"a": [1]}` is 2. Computed level by level without recursion
    (a 10,000-deep list is fine), a value shared within one level counted once (a DAG does
    not blow up), and it stops as soon as the depth passes `limit` (so a cycle ends too).

    Returns:
        The depth, or `limit + 1` as soon as the depth is known to exceed `limit`.
    """
    depth = 0
    level = [value]
    while True:
        groups = [group for group in map(_children, level) if group is not None]
        if not groups:
            return depth
        depth += 1
        if depth > limit:
            return limit + 1
        if set(map(type, chain.from_iterable(groups))) <= _LEAVES:  # C speed for wide scalars
            return depth
        nested = [child for child in chain.from_iterable(groups) if type(child) not in _LEAVES]
        level = list(dict(zip(map(id, nested), nested, strict=True)).values())


class _ShortRepr(reprlib.Repr):
    """reprlib with small limits, no sorting of big dicts/sets, and short model reprs."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = self.maxother = 120
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 8
        self.maxdeque = self.maxarray = self.maxdict = 8

    def repr_dict(self, x: dict[Any, Any], level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        items = [f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}"
                 for k, v in islice(x.items(), self.maxdict)]
        more = ", ..." if len(x) > self.maxdict else ""
        return "{" + ", ".join(items) + more + "}"

    def repr_set(self, x: set[Any], level: int) -> str:
        return self._unsorted(x, level, "{", "}", "set()")

    def repr_frozenset(self, x: frozenset[Any], level: int) -> str:
        return self._unsorted(x, level, "frozenset({", "})", "frozenset()")

    def _unsorted(self, x: Iterable[Any], level: int, left: str, right: str, empty: str) -> str:
        items = list(islice(x, self.maxset + 1))
        if not items:
            return empty
        if level <= 0:
            return left + "..." + right
        shown = ", ".join(self.repr1(v, level - 1) for v in items[: self.maxset])
        return left + shown + (", ..." if len(items) > self.maxset else "") + right

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # str() of a huge int is slow, or refused past 4300 digits
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_instance(self, x: Any, level: int) -> str:
        if isinstance(x, pydantic.BaseModel):
            return self._fields(x, list(x.__dict__.items()), level)
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            fields = [(f.name, getattr(x, f.name, None)) for f in dataclasses.fields(x)]
            return self._fields(x, fields, level)
        return super().repr_instance(x, level)  # catches a raising __repr__

    def _fields(self, x: Any, fields: list[tuple[str, Any]], level: int) -> str:
        name = type(x).__name__
        if level <= 0:
            return f"{name}(...)"
        shown = ", ".join(f"{k}={self.repr1(v, level - 1)}" for k, v in fields[: self.maxlist])
        return f"{name}({shown}{', ...' if len(fields) > self.maxlist else ''})"


_REPR = _ShortRepr()


def clip_repr(value: Any, limit: int = 200) -> str:
    """A short repr of `value`, at most `limit` characters (cut with "...").

    Built with `reprlib` limits (a few items per container, three levels, strings cut), so a
    20 MB value never becomes a 20 MB string first; a raising `__repr__` gives
    `<type instance at 0x...>`. Never raises.
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # e.g. a user class named "list" that is not one
        text = f"<{type_name(value)} object>"
    text = safe_text(text)
    if len(text) > limit:
        return text[: max(limit - 3, 0)] + "..."
    return text


def safe_text(text: str) -> str:
    """`text` with every character UTF-8 cannot encode (lone surrogates) backslash-escaped,
    so Redis and JSON can always store it. Never raises."""
    try:
        return str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    except Exception:
        return "<unprintable text>"


def type_name(value: Any) -> str:
    """`module.qualname` of the value's type (builtins without the module): `datetime.date`,
    `set`, `myapp.models.Order`."""
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    qualname = getattr(kind, "__qualname__", kind.__name__)
    return qualname if module == "builtins" else f"{module}.{qualname}"


@dataclass(frozen=True)
class Problem:
    """One bad parameter: its name and a one-line description (`str()` gives the line)."""

    parameter: str
    text: str

    def __str__(self) -> str:
        return self.text


def parameter_error(owner: str, problems: Iterable[Problem]) -> ParameterError:
    """`invalid parameters for <owner>: <problem>; <problem>` as a ParameterError."""
    return ParameterError(safe_text(f"invalid parameters for {owner}: "
                                     + "; ".join(map(str, problems))))


def clip_label(name: object, limit: int = 80) -> str:
    """A name as a message shows it: itself when a short str, else its clipped repr."""
    return name if isinstance(name, str) and len(name) <= limit else clip_repr(name, limit)


def unknown_problems(names: Iterable[str], expected: Iterable[str]) -> list[Problem]:
    """One Problem per unknown name, listing the expected names."""
    allowed = ", ".join(sorted(expected)) or "none"
    allowed = allowed if len(allowed) <= 200 else allowed[:197] + "..."
    return [Problem(clip_label(name), f"{clip_label(name)}: unknown parameter "
                    f"(expected one of: {allowed})") for name in names]


_MAX_ERRORS = 1000  # pydantic's errors() costs ~5 us each: 2M errors would take 10 s
_SAMPLE = 100


def _sample(value: Any) -> Any:
    """The first items of a big container (to word one of its many errors cheaply)."""
    if isinstance(value, list | tuple):
        return value[:_SAMPLE]
    if isinstance(value, set | frozenset):
        return set(islice(value, _SAMPLE))
    if isinstance(value, dict):
        return dict(islice(value.items(), _SAMPLE))
    return value


@dataclass(frozen=True)
class FieldChecks:
    """Validation one parameter at a time, shared by `ParameterSpec` and the deployment
    check so both word problems identically.

    Attributes:
        models: per parameter name, a pydantic model with one field `value` aliased by the
            name (so pydantic's error paths start with the parameter's name).
        required: the names that must be given, in signature order (a name may be required
            without a model: an `Any` parameter needs no validation, only presence).
    """

    models: Mapping[str, type[pydantic.BaseModel]]
    required: tuple[str, ...]

    def validate(
        self, parameters: Mapping[str, Any], *, partial: bool = False
    ) -> tuple[dict[str, Any], list[Problem]]:
        """The coerced values of the checked names and one Problem per bad or (unless
        `partial`) missing parameter; names without a model are left out of both."""
        coerced: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, value in parameters.items():
            model = self.models.get(name)
            if model is None:
                continue
            try:
                # fields live in __dict__; `.value` is not declared on BaseModel for mypy
                coerced[name] = model.model_validate({name: value}).__dict__["value"]
            except pydantic.ValidationError as exc:
                problems.append(self._problem(model, name, value, exc))
        if not partial:
            problems += [Problem(label, f"{label}: required parameter missing")
                         for name in self.required if name not in parameters
                         for label in (clip_label(name),)]
        return coerced, problems

    @staticmethod
    def _problem(
        model: type[pydantic.BaseModel], name: str, value: Any, exc: pydantic.ValidationError
    ) -> Problem:
        count = exc.error_count()
        label = clip_label(name)
        worded: pydantic.ValidationError | None = exc
        if count > _MAX_ERRORS:  # word the first error of a sample instead
            worded = _sample_errors(model, name, value)
        if worded is None or worded.error_count() > _MAX_ERRORS:
            return Problem(label, f"{label}: {count} validation errors (got {clip_repr(value)})")
        first = worded.errors(include_url=False, include_context=False)[0]
        path = ".".join(clip_label(part) for part in first["loc"]) or label
        text = f"{path}: {first['msg']}"
        if first["type"] != "missing":
            text += f" (got {clip_repr(first['input'])})"
        return Problem(label, text + (f" (and {count - 1} more)" if count > 1 else ""))


def _sample_errors(
    model: type[pydantic.BaseModel], name: str, value: Any
) -> pydantic.ValidationError | None:
    """The errors of the first items of a big container, None when those are fine."""
    try:
        model.model_validate({name: _sample(value)})
    except pydantic.ValidationError as exc:
        return exc
    return None


OMITTED_KEY = "__omitted__"
"""The one key of a rendered object whose parameters could not fit at all."""


def placeholder(value: Any) -> str:
    """`{"__type__": "module.qualname", "__repr__": "<clip_repr>"}` as compact ASCII JSON."""
    return json.dumps({"__type__": type_name(value), "__repr__": clip_repr(value)},
                      separators=(",", ":"))


def render_object(parameters: Mapping[Any, Any], max_bytes: int) -> str:
    """A JSON object text of `parameters` within `max_bytes` (UTF-8), for a record.

    Each value is its `to_json` form, else (no JSON form, or alone over `max_bytes`) its
    `placeholder`; then the largest are replaced by placeholders until the text fits; if
    even that cannot fit, `{"__omitted__": <count>}`. Keys are `str()`-ed. Never raises
    for values; the caller guards the mapping itself.
    """
    try:  # all of it at once, when every value has a JSON form and it fits
        whole = to_json({key: value for key, value in parameters.items()})
        if len(whole.encode("utf-8")) <= max_bytes and all(isinstance(k, str)
                                                            for k in parameters):
            return whole
    except Exception:
        pass
    values: dict[str, Any] = {}  # JSON-encoded (ASCII) name -> value
    pieces: dict[str, str] = {}  # JSON-encoded name -> JSON text of the value
    for name, value in parameters.items():
        try:
            text = to_json(value)
        except Exception:
            text = ""
        if not text or len(text.encode("utf-8")) > max_bytes:
            text = placeholder(value)
        key = json.dumps(safe_text(str(name)))
        values[key], pieces[key] = value, text
    sizes = {key: len(text.encode("utf-8")) for key, text in pieces.items()}
    total = 1 + max(len(sizes), 1) + sum(len(key) + 1 + size for key, size in sizes.items())
    for key in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if total <= max_bytes:
            break
        stand_in = placeholder(values[key])
        if len(stand_in) < sizes[key]:
            pieces[key] = stand_in
            total -= sizes[key] - len(stand_in)
    if total > max_bytes:
        return json.dumps({OMITTED_KEY: len(pieces)})
    return "{" + ",".join(f"{key}:{text}" for key, text in pieces.items()) + "}"
