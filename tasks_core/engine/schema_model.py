"""A pydantic model rebuilt from a stored parameter JSON schema, to check `run_deployment`
parameters where the flow function is not at hand.

The check is pydantic's own validation of types rebuilt from what pydantic emits
(`ParameterSpec.schema()`): so `"1.5"` for an int, `[1, 2]` for a `list[str]` are refused
here exactly as the flow would refuse them. Invariants:

- Never stricter than the flow: anything the schema cannot say precisely becomes `Any`
  (the worker checks it again with the real function). Unknown formats, `not`/`allOf`
  combinations, recursive `$ref`s, variadic tuples, unmarked number enums are `Any`.
- Never raises on a schema pydantic produced; models are cached by the schema's JSON text.

What maps to what (JSON schema -> annotation):

    {} / true                      Any
    type integer|number|string|boolean|null   int | float | str | bool | None, with
                                   minimum/maximum/exclusive*/multipleOf, minLength/maxLength/
                                   pattern as Field constraints
    string format date-time|date|time|duration|uuid*|path|binary   datetime ... bytes
    anyOf/oneOf, type [..]         Union; a branch with format "decimal" makes it Decimal
    array items / uniqueItems / prefixItems   list[X] / set[X] / tuple[X, Y]; minItems/maxItems
    object properties              a model (required, defaults, additionalProperties false ->
                                   extra forbid, true -> allow); else dict[str, X]
    enum / const                   Literal, or IntEnum/StrEnum-like per `ENUM_KIND`
    $ref #/$defs/X                 the definition, built once
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import json
import pathlib
import re
import uuid
import warnings
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, cast

import pydantic
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from tasks_core.engine.codec import FieldChecks, Problem, parameter_error, unknown_problems

__all__ = [
    "DECIMAL_FORMAT",
    "ENUM_KIND",
    "ParameterSchema",
    "check_parameters",
    "find_problems",
    "lenient_model",
    "model_from_schema",
]

ENUM_KIND = "x-enum-kind"
"""Schema key on enum/literal nodes: "exact" (a plain Enum or Literal), "int" (IntEnum-like,
takes "1"), "str" (StrEnum-like) or "other" (not rebuilt)."""
DECIMAL_FORMAT = "decimal"
"""`format` of the string branch of a Decimal, so it differs from `float | str`."""

_FORMATS: dict[str, Any] = {
    "date-time": datetime.datetime, "date": datetime.date, "time": datetime.time,
    "duration": datetime.timedelta, "uuid": uuid.UUID, "uuid1": uuid.UUID,
    "uuid3": uuid.UUID, "uuid4": uuid.UUID, "uuid5": uuid.UUID, "path": pathlib.Path,
    "file-path": pathlib.Path, "directory-path": pathlib.Path, "binary": bytes,
    DECIMAL_FORMAT: decimal.Decimal,
}
_NUMBER_RULES = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt",
                 "exclusiveMaximum": "lt", "multipleOf": "multiple_of"}
_STRING_RULES = {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"}
_ARRAY_RULES = {"minItems": "min_length", "maxItems": "max_length"}
_SCALARS: dict[str, Any] = {"integer": int, "number": float, "boolean": bool, "null": None}


class ParameterSchema(GenerateJsonSchema):
    """pydantic's JSON schema generator, made total and unambiguous for `schema_model`.

    A type with no JSON schema becomes `{}`; Decimal's string branch gets
    `format: "decimal"`; enum and literal nodes get `ENUM_KIND`.
    """

    def handle_invalid_for_json_schema(
        self, schema: Any, error_info: str
    ) -> JsonSchemaValue:
        return {}

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        result = super().decimal_schema(schema)
        for branch in result.get("anyOf", [result]):
            if branch.get("type") == "string":
                branch["format"] = DECIMAL_FORMAT
        return result

    def enum_schema(self, schema: core_schema.EnumSchema) -> JsonSchemaValue:
        result = super().enum_schema(schema)
        cls = schema["cls"]
        if issubclass(cls, enum.Flag) or issubclass(cls, float):
            result[ENUM_KIND] = "other"
        elif issubclass(cls, int) or issubclass(cls, str):
            result[ENUM_KIND] = "int" if issubclass(cls, int) else "str"
        else:
            result[ENUM_KIND] = "exact" if cls._member_type_ is object else "other"
        return result

    def literal_schema(self, schema: core_schema.LiteralSchema) -> JsonSchemaValue:
        result = super().literal_schema(schema)
        members = any(isinstance(value, enum.Enum) for value in schema["expected"])
        result[ENUM_KIND] = "other" if members else "exact"
        return result


def lenient_model(
    name: str, fields: dict[str, tuple[Any, Any]], config: pydantic.ConfigDict
) -> type[pydantic.BaseModel]:
    """`pydantic.create_model`, with every field pydantic cannot build typed `Any` instead.

    Never raises for an odd annotation; `name` is made an identifier.
    """
    name = re.sub(r"\W", "_", name) or "Model"
    try:
        return _create(name, config, fields)
    except Exception:
        pass
    safe = {key: spec if _buildable(spec, config) else (Any, spec[1])
            for key, spec in fields.items()}
    try:
        return _create(name, config, safe)
    except Exception:  # fields that fail only together: give up on their types
        return _create(name, config, {key: (Any, spec[1]) for key, spec in fields.items()})


def _create(
    name: str, config: pydantic.ConfigDict, fields: dict[str, tuple[Any, Any]]
) -> type[pydantic.BaseModel]:
    with warnings.catch_warnings():  # e.g. "5 is not a Python type": it validates as Any
        warnings.simplefilter("ignore")
        model: type[pydantic.BaseModel] = pydantic.create_model(  # type: ignore[call-overload]
            name, __config__=config, **fields)
    return model


def _buildable(spec: tuple[Any, Any], config: pydantic.ConfigDict) -> bool:
    try:
        _create("Probe", config, {"field": spec})
    except Exception:
        return False
    return True


def _constrained(base: Any, node: Mapping[str, Any], rules: Mapping[str, str]) -> Any:
    """`Annotated[base, Field(...)]` with the node's constraints, or `base` without any."""
    found = {rules[key]: node[key] for key in rules if key in node}
    return Annotated[base, pydantic.Field(**found)] if found else base


def _literal(values: list[Any]) -> Any:
    if not values or any(isinstance(v, list | dict) for v in values):
        return Any
    return cast(Any, Literal)[tuple(values)]


class _Builder:
    """Turns schema nodes into annotations; one per schema (its `$defs`, built once)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.defs: Mapping[str, Any] = schema.get("$defs") or schema.get("definitions") or {}
        self.built: dict[str, Any] = {}
        self.building: set[str] = set()

    def annotation(self, node: Any) -> Any:
        """The annotation for one node; `Any` for what it cannot express."""
        if not isinstance(node, Mapping):
            return Any  # true, false, or garbage
        try:
            return self._dispatch(node)
        except Exception:
            return Any

    def _dispatch(self, node: Mapping[str, Any]) -> Any:
        if "$ref" in node:
            return self._ref(str(node["$ref"]))
        if "allOf" in node:
            parts = node["allOf"]
            return self.annotation(parts[0]) if len(parts) == 1 else Any
        options = node.get("anyOf") or node.get("oneOf")
        if options:
            return self._union(options)
        if "const" in node:
            return self._enum(node, [node["const"]])
        if "enum" in node:
            return self._enum(node, list(node["enum"]))
        kind = node.get("type")
        if isinstance(kind, list):
            return self._union([{**node, "type": each} for each in kind])
        if kind is None and "properties" in node:
            kind = "object"
        return self._typed(str(kind), node) if kind is not None else Any

    def _ref(self, ref: str) -> Any:
        name = ref.rsplit("/", 1)[-1]
        if name in self.built:
            return self.built[name]
        if name in self.building or name not in self.defs:
            return Any  # a recursive definition, or a reference outside this schema
        self.building.add(name)
        try:
            self.built[name] = self.annotation(self.defs[name])
        finally:
            self.building.discard(name)
        return self.built[name]

    def _union(self, options: list[Any]) -> Any:
        decimal_branch = any(isinstance(o, Mapping) and o.get("type") == "string"
                             and o.get("format") == DECIMAL_FORMAT for o in options)
        if decimal_branch:
            number: Mapping[str, Any] = next(
                (o for o in options if isinstance(o, Mapping) and o.get("type") == "number"), {})
            return _constrained(decimal.Decimal, number, _NUMBER_RULES)
        members = [self.annotation(option) for option in options]
        if any(member is Any for member in members):
            return Any
        return cast(Any, Union)[tuple(members)]

    def _enum(self, node: Mapping[str, Any], values: list[Any]) -> Any:
        kind = node.get(ENUM_KIND)
        json_type = node.get("type")
        if kind == "exact" or (kind is None and "const" in node):
            return _literal(values)
        if kind in ("int", None) and json_type == "integer":
            return enum.IntEnum(str(node.get("title", "Enum")),
                                [(f"m{i}", v) for i, v in enumerate(values)])
        if kind in ("str", None) and json_type == "string":
            return enum.StrEnum(str(node.get("title", "Enum")),
                                [(f"m{i}", v) for i, v in enumerate(values)])
        if kind is None and json_type is None:
            return _literal(values)  # mixed values: only a plain Enum or a Literal has those
        return Any

    def _typed(self, kind: str, node: Mapping[str, Any]) -> Any:
        if kind in ("integer", "number"):
            return _constrained(_SCALARS[kind], node, _NUMBER_RULES)
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "string":
            return self._string(node)
        if kind == "array":
            return self._array(node)
        if kind == "object":
            return self._object(node)
        return Any

    def _string(self, node: Mapping[str, Any]) -> Any:
        form = node.get("format")
        if form is None:
            return _constrained(str, node, _STRING_RULES)
        return _FORMATS.get(str(form), Any)  # an unknown format may accept non-strings

    def _array(self, node: Mapping[str, Any]) -> Any:
        prefix = node.get("prefixItems")
        if prefix is not None:
            if node.get("items") not in (None, False):
                return Any  # a variadic tuple with a fixed prefix
            members = tuple(self.annotation(item) for item in prefix)
            return cast(Any, tuple)[members] if members else tuple[()]
        item = self.annotation(node.get("items", {}))
        base = set[item] if node.get("uniqueItems") else list[item]  # type: ignore[valid-type]
        return _constrained(base, node, _ARRAY_RULES)

    def _object(self, node: Mapping[str, Any]) -> Any:
        if "properties" in node:
            return self.model(node, str(node.get("title", "Object")))
        extra = node.get("additionalProperties", True)
        value = self.annotation(extra) if isinstance(extra, Mapping) else Any
        return dict[str, value]  # type: ignore[valid-type]

    def model(self, node: Mapping[str, Any], name: str) -> type[pydantic.BaseModel]:
        """A model of an object node: its properties (by alias), required names, defaults,
        and `additionalProperties` as extra forbid/allow (absent: pydantic's ignore)."""
        properties: Mapping[str, Any] = node.get("properties") or {}
        required = set(node.get("required") or [])
        fields = {
            f"f{index}": (self.annotation(spec), pydantic.Field(
                ... if key in required else _default(spec), alias=key))
            for index, (key, spec) in enumerate(properties.items())}
        extra = node.get("additionalProperties")
        config = pydantic.ConfigDict(
            extra="forbid" if extra is False else "ignore" if extra is None else "allow")
        return lenient_model(name, fields, config)

    def checks(self, node: Mapping[str, Any], name: str) -> FieldChecks:
        """One single-field model per property of an object node, and its required names."""
        properties: Mapping[str, Any] = node.get("properties") or {}
        models = {key: lenient_model(f"{name}_{key}", {
            "value": (self.annotation(spec), pydantic.Field(alias=key))}, pydantic.ConfigDict())
            for key, spec in properties.items()}
        return FieldChecks(models, tuple(node.get("required") or []))


def _default(spec: Any) -> Any:
    return spec.get("default") if isinstance(spec, Mapping) else None


@functools.lru_cache(maxsize=128)
def _model_from_text(text: str, name: str) -> type[pydantic.BaseModel]:
    schema = json.loads(text)
    try:
        return _Builder(schema).model(schema, name)
    except Exception:  # not an object schema at all: accept anything, the worker checks
        return lenient_model(name, {}, pydantic.ConfigDict(extra="allow"))


def model_from_schema(schema: Mapping[str, Any], name: str) -> type[pydantic.BaseModel]:
    """The pydantic model of a parameters JSON schema (cached by the schema's JSON text).

    Properties become fields aliased by their names; what the schema cannot express
    precisely is `Any` (see the module docstring). Never raises for a JSON schema.
    """
    try:
        text = json.dumps(schema, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return lenient_model(name, {}, pydantic.ConfigDict(extra="allow"))
    return _model_from_text(text, name)


@functools.lru_cache(maxsize=128)
def _checks_from_text(text: str) -> FieldChecks:
    schema = json.loads(text)
    try:
        return _Builder(schema).checks(schema, "deployment")
    except Exception:  # not an object schema at all: check nothing, the worker checks
        return FieldChecks({}, ())


def find_problems(schema: Mapping[str, Any], parameters: Mapping[str, Any]) -> list[Problem]:
    """Every unknown (unless `additionalProperties` allows it), missing or mistyped
    parameter, worded and ordered as `ParameterSpec.problems` words them."""
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    problems = []
    if not schema.get("additionalProperties", False):
        problems = unknown_problems([k for k in parameters if k not in properties], properties)
    try:
        checks = _checks_from_text(json.dumps(schema, sort_keys=True, default=str))
    except (TypeError, ValueError, RecursionError):
        return problems
    return problems + checks.validate(parameters)[1]


def check_parameters(
    schema: Mapping[str, Any], parameters: Mapping[str, Any], deployment_name: str
) -> None:
    """Check `run_deployment` parameters against a deployment's stored parameter schema.

    Raises:
        ParameterError: `invalid parameters for deployment '<name>': ...` naming every
            unknown, missing or mistyped parameter and quoting at most ~200 characters of
            each value; the same wording as `ParameterSpec.coerce`.
    """
    problems = find_problems(schema, parameters)
    if problems:
        raise parameter_error(f"deployment {deployment_name!r}", problems)
