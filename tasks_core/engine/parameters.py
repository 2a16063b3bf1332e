"""The one parameter path of tasks and flows: bind, coerce, encode, render, decode, schema.

A `ParameterSpec` is built once per task or flow from its function and reused per call:

    bind(args, kwargs)   -> {name: value}        the signature's binding
    coerce(parameters)   -> {name: value}        pydantic (lax, python mode) from the hints
    encode(parameters)   -> JSON text            what crosses a process; refuses what it cannot
    render(parameters)   -> JSON object text     what an in-process run records; never raises
    decode(text)         -> (args, kwargs)       recorded JSON back to a call
    schema()             -> JSON schema          for deployments (`engine/schema_model.py`)

Invariants:
- Parameters are validated one at a time (`codec.FieldChecks`: one small model per
  parameter, its field aliased by the parameter's name, so any name works: `_x`,
  `model_config`, `schema`); *args/**kwargs values are not validated. The model of all
  parameters (fields `p0`, `p1`, ...) exists for the schema only.
- Defaults are never validated, copied or filled in: `coerce` returns exactly the names it
  was given. Only the schema shows defaults (when they are JSON).
- Errors are `ParameterError`s naming every bad parameter and quoting at most ~200
  characters of a value (`codec.clip_repr`).
"""

from __future__ import annotations

import functools
import inspect
import json
import typing
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import pydantic

from tasks_core.engine.codec import (
    JSON_MAX_DEPTH,
    OMITTED_KEY,
    FieldChecks,
    Problem,
    clip_label,
    clip_repr,
    depth_of,
    parameter_error,
    render_object,
    safe_text,
    to_json,
    type_name,
    unknown_problems,
)
from tasks_core.engine.schema_model import ParameterSchema, lenient_model
from tasks_core.engine.tagged import loads_tagged
from tasks_core.errors import ParameterError

__all__ = ["ParameterSpec", "call_arguments", "encode_checked", "given_parameters",
           "return_annotation"]

def given_parameters(owner: str, parameters: object) -> dict[str, Any]:
    """The ``parameters=`` of a deployment call (`run_deployment`, `.deploy()`): a dict of
    parameter names to values; None is none.

    Raises:
        ParameterError: `parameters` is not a mapping (named, with `owner`).
    """
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise ParameterError(f"{owner}: parameters must be a dict of parameter names to "
                             f"values, got {type(parameters).__name__}")
    return dict(parameters)


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_PLACEHOLDER_KEYS = {"__type__", "__repr__"}


_OMITTED: Any = object()  # the default of optional fields in `model`: pydantic leaves it out
# extra stays pydantic's default: nested dataclasses/TypedDicts inherit this config, and
# unknown top-level names are refused before any model sees them
_CONFIG = pydantic.ConfigDict(arbitrary_types_allowed=True)


def _hints(fn: Callable[..., Any], signature: inspect.Signature) -> dict[str, Any]:
    """Resolved annotations (with `Annotated` extras, "return" included); `Any` for one
    that does not resolve."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # one bad hint fails them all: resolve one at a time
        pass
    namespace = getattr(fn, "__globals__", None)
    found = {p.name: p.annotation for p in signature.parameters.values()}
    found["return"] = signature.return_annotation
    return {name: _resolve(hint, namespace) for name, hint in found.items()
            if hint is not inspect.Parameter.empty}


def _resolve(hint: Any, namespace: dict[str, Any] | None) -> Any:
    holder = type("_Holder", (), {"__annotations__": {"hint": hint}})
    try:
        return typing.get_type_hints(holder, globalns=namespace, include_extras=True)["hint"]
    except Exception:
        return Any


def return_annotation(fn: Callable[..., Any]) -> Any:
    """The resolved return annotation of `fn`, for `results.decode_result` (the awaited
    type for an async function); `Any` when there is none or it does not resolve."""
    try:
        return _hints(fn, inspect.signature(fn)).get("return", Any)
    except (TypeError, ValueError):  # no signature to read
        return Any


class ParameterSpec:
    """The parameters of one task or flow function (built once, reused per call).

    Args:
        fn: the function; its signature and type hints (`typing.get_type_hints`, `Any` for
            a hint that does not resolve or that pydantic cannot use).
        owner: how errors name it, e.g. `"flow 'etl'"`.
        validate: False turns `coerce` into a pass-through and the schema into names only.
    """

    def __init__(self, fn: Callable[..., Any], *, owner: str, validate: bool = True) -> None:
        self.fn = fn
        self.owner = owner
        self.validates = validate
        self.signature = inspect.signature(fn)
        params = list(self.signature.parameters.values())
        named = [p.name for p in params if p.kind not in _VARIADIC]
        self.fields = {name: f"p{index}" for index, name in enumerate(named)}  # -> model field
        self.var_positional = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
        self.var_keyword = next((p.name for p in params if p.kind is p.VAR_KEYWORD), None)
        found = _hints(fn, self.signature)
        self.hints = {name: found.get(name, Any) for name in self.fields}
        self._qualname = getattr(fn, "__qualname__", type(fn).__qualname__)

    @functools.cached_property
    def checks(self) -> FieldChecks:
        """One small model per named parameter with a type hint (built on first use: most
        tasks never coerce; an `Any` parameter has nothing to coerce), and the required
        names."""
        return FieldChecks(
            models={name: lenient_model(f"{self._qualname}_{name}", {
                "value": (hint, pydantic.Field(alias=name))}, _CONFIG)
                for name, hint in self.hints.items() if hint is not Any},
            required=tuple(name for name in self.fields if self._required(name)))

    @functools.cached_property
    def model(self) -> type[pydantic.BaseModel]:
        """All named parameters as one model (fields `p0`, `p1`, ... aliased by the names;
        defaults left out), from which `schema()` comes."""
        specs = {
            field: (self.hints[name], pydantic.Field(
                ... if self._required(name) else _OMITTED, alias=name))
            for name, field in self.fields.items()}
        return lenient_model(f"{self._qualname}_parameters", specs, _CONFIG)

    def _required(self, name: str) -> bool:
        return self.signature.parameters[name].default is inspect.Parameter.empty

    def bind(self, args: tuple[Any, ...] | list[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """`{name: value}` of the call as the signature binds it (no defaults added).

        Raises:
            ParameterError: the arguments do not fit, naming the function and signature.
        """
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            qualname = getattr(self.fn, "__qualname__", repr(self.fn))
            raise ParameterError(safe_text(f"{qualname}{self.signature}: {exc}")) from None
        return dict(bound.arguments)

    def problems(self, parameters: Mapping[str, Any], *, partial: bool = False) -> list[Problem]:
        """What `coerce` (or with `partial`, `check_partial`) would complain about."""
        return self._validate(parameters, partial=partial)[1]

    def coerce(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters validated and coerced by pydantic from the type hints (lax python
        mode: "2024-03-01" -> date, "1" -> 1; "1.5" for int refused). *args/**kwargs values
        pass unchanged; other unknown names are refused unless the function takes **kwargs.

        Raises:
            ParameterError: naming every bad parameter with pydantic's message and at most
                ~200 characters of its value.
        """
        if not self.validates:
            return dict(parameters)
        coerced, problems = self._validate(parameters, partial=False)
        if problems:
            raise parameter_error(self.owner, problems)
        return coerced

    def check_partial(self, parameters: Mapping[str, Any]) -> None:
        """Check only the given parameters (a deployment's defaults): missing ones are fine.

        Raises:
            ParameterError: as `coerce`.
        """
        problems = self._validate(parameters, partial=True)[1]
        if problems:
            raise parameter_error(self.owner, problems)

    def _validate(
        self, parameters: Mapping[str, Any], *, partial: bool
    ) -> tuple[dict[str, Any], list[Problem]]:
        known = self.signature.parameters
        unknown = [] if self.var_keyword else [k for k in parameters if k not in known]
        problems = unknown_problems(unknown, known)
        if not self.validates:
            return dict(parameters), problems
        coerced, bad = self.checks.validate(parameters, partial=partial)
        return {k: coerced.get(k, v) for k, v in parameters.items()}, problems + bad

    def encode(self, parameters: Mapping[str, Any], *, max_bytes: int, max_depth: int) -> str:
        """The parameters as one JSON object text (`codec.to_json`), for a process boundary.

        Raises:
            ParameterError: naming the parameter nested deeper than `max_depth`
                (TASKS_CORE_PARAMETERS_MAX_DEPTH), or the one with no JSON form and its
                type, or, over `max_bytes` (TASKS_CORE_PARAMETERS_MAX_BYTES), the largest.
        """
        return encode_checked(parameters, owner=self.owner, max_bytes=max_bytes,
                              max_depth=max_depth)

    def render(self, parameters: Mapping[str, Any], *, max_bytes: int) -> str:
        """A JSON object text of the parameters for an in-process run's record. Never raises.

        Each parameter is its JSON form, else `{"__type__": "module.qualname", "__repr__":
        "<short repr>"}`; the largest are replaced by that placeholder until the text fits
        `max_bytes`; if even that cannot fit, `{"__omitted__": <count>}`.
        """
        try:
            return render_object(parameters, max_bytes)
        except Exception:  # a mapping whose iteration raises: still record something
            return json.dumps({OMITTED_KEY: -1})

    def decode(self, text: str) -> tuple[list[Any], dict[str, Any]]:
        """Recorded JSON back to `(args, kwargs)` reproducing the binding, after `coerce`
        (so a `date` parameter gets a `date`, a model parameter the model).

        Raises:
            ParameterError: the text is not a JSON object, holds render placeholders (a
                value that was not recorded cannot be replayed), or does not coerce.
        """
        return call_arguments(self.signature, self.coerce(self._load(text)))

    def arguments(self, parameters: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """`(args, kwargs)` reproducing bound parameters (`call_arguments` on this signature)."""
        return call_arguments(self.signature, parameters)

    def _load(self, text: str) -> dict[str, Any]:
        try:
            raw = loads_tagged(text)  # kombu's tagged dates, UUIDs, Decimals (engine.tagged)
        except (ValueError, RecursionError) as exc:
            raise ParameterError(f"recorded parameters of {self.owner} are not JSON "
                                 f"({clip_repr(str(exc))})") from None
        if not isinstance(raw, dict):
            raise ParameterError(f"recorded parameters of {self.owner} are not a JSON object "
                                 f"(got {clip_repr(raw)})")
        lost = [k for k, v in raw.items() if isinstance(v, dict) and set(v) == _PLACEHOLDER_KEYS]
        if set(raw) == {OMITTED_KEY} and OMITTED_KEY not in self.signature.parameters:
            lost = list(self.signature.parameters)
        if lost:
            raise ParameterError(f"parameters {clip_repr(lost)} of {self.owner} were recorded "
                                 "as placeholders (no JSON form, or too large) and cannot be "
                                 "replayed; pass them again")
        return raw

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the parameters (pydantic's, via `ParameterSchema`). Never raises.

        A type with no JSON schema is `{}` (any); defaults appear when they are JSON;
        *args/**kwargs names are `{}` properties; `additionalProperties` is true only with
        **kwargs. With `validate=False` every property is `{}`.
        """
        try:
            result = self._model_schema() if self.validates else self._names_schema()
        except Exception:
            result = self._names_schema()
        properties = result.setdefault("properties", {})
        for name in self.fields:
            default = self.signature.parameters[name].default
            if default is not inspect.Parameter.empty and name in properties:
                _set_default(properties[name], default)
        for variadic in (self.var_positional, self.var_keyword):
            if variadic is not None:
                properties.setdefault(variadic, {})
        return result

    def _model_schema(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = self.model.model_json_schema(schema_generator=ParameterSchema)
        result["additionalProperties"] = self.var_keyword is not None
        return result

    def _names_schema(self) -> dict[str, Any]:
        return {
            "title": self.model.__name__, "type": "object",
            "properties": {name: {} for name in self.fields},
            "required": [name for name in self.fields if self._required(name)],
            "additionalProperties": self.var_keyword is not None}


def _set_default(node: dict[str, Any], default: Any) -> None:
    try:
        node["default"] = json.loads(to_json(default))
    except (ValueError, RecursionError):
        node.pop("default", None)


def encode_checked(
    parameters: Mapping[str, Any], *, owner: str, max_bytes: int, max_depth: int
) -> str:
    """`ParameterSpec.encode` without a function: depth, then JSON, then size checks.

    Args:
        owner: how errors name whose parameters they are, e.g. `"deployment 'etl/daily'"`.

    Raises:
        ParameterError: as `ParameterSpec.encode`.
    """
    _check_depth(owner, parameters, max_depth)
    try:
        text = to_json(dict(parameters))
    except ValueError:
        raise _not_json_error(owner, parameters) from None
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise _size_error(owner, parameters, size, max_bytes)
    return text


def _check_depth(owner: str, parameters: Mapping[str, Any], max_depth: int) -> None:
    limit = min(max_depth, JSON_MAX_DEPTH - 1)  # the parameters object itself is one level
    for name, value in parameters.items():
        if depth_of(value, limit) > limit:
            raise ParameterError(safe_text(
                f"parameter {clip_label(name)!r} of {owner} is nested deeper than {limit} levels "
                f"(TASKS_CORE_PARAMETERS_MAX_DEPTH) ({type_name(value)}: {clip_repr(value)}); "
                "flatten it or pass a reference (a path or key) instead"))


def _not_json_error(owner: str, parameters: Mapping[str, Any]) -> ParameterError:
    for name, value in parameters.items():
        try:
            to_json(value)
        except ValueError as exc:
            return ParameterError(safe_text(
                f"parameter {clip_label(name)!r} of {owner} has no JSON form ({type_name(value)}: "
                f"{exc}; got {clip_repr(value)}); pass JSON-able data (str, int, float, bool, "
                "None, list, dict, datetime, UUID, Decimal, enum, pydantic model, dataclass)"))
    return ParameterError(f"parameters of {owner} have no JSON form (their names are not strings)")


def _size_error(
    owner: str, parameters: Mapping[str, Any], size: int, max_bytes: int
) -> ParameterError:
    sizes = {name: len(to_json(value).encode("utf-8")) for name, value in parameters.items()}
    largest = max(sizes, key=sizes.__getitem__)
    return ParameterError(safe_text(
        f"parameters of {owner} are {size} bytes of JSON, over the limit of {max_bytes} "
        f"(TASKS_CORE_PARAMETERS_MAX_BYTES); the largest is {clip_label(largest)!r} "
        f"({type_name(parameters[largest])}, {sizes[largest]} bytes: "
        f"{clip_repr(parameters[largest])}); pass a reference (a path or key) instead"))


def call_arguments(
    signature: inspect.Signature, parameters: Mapping[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments that reproduce a bound parameters dict.

    A positional parameter left out before one that must be positional (a positional-only
    one given, or a non-empty *args) gets its default. Names the signature lacks go to
    **kwargs (the bound `{kwargs_name: {...}}` form works too).

    Raises:
        ParameterError: unknown names without **kwargs, or a required positional left out.
    """
    params = list(signature.parameters.values())
    has_var_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
    extra = [name for name in parameters if name not in signature.parameters]
    if extra and not has_var_keyword:
        raise ParameterError(f"unknown parameters {clip_repr(extra)} for {signature}")
    forced = _last_forced_positional(params, parameters)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    positional = True  # False once a parameter that could be positional was left out
    for index, param in enumerate(params):
        given = param.name in parameters
        if param.kind is param.VAR_POSITIONAL:
            args.extend(parameters.get(param.name, ()))
        elif param.kind is param.VAR_KEYWORD:
            kwargs.update(parameters.get(param.name, {}))
        elif param.kind in _POSITIONAL and index <= forced:
            args.append(parameters[param.name] if given else _default(param))
        elif given and param.kind in _POSITIONAL and positional:
            args.append(parameters[param.name])
        elif given:
            kwargs[param.name] = parameters[param.name]
        else:
            positional = positional and param.kind not in _POSITIONAL
    kwargs.update({name: parameters[name] for name in extra})
    return args, kwargs


def _last_forced_positional(
    params: list[inspect.Parameter], parameters: Mapping[str, Any]
) -> int:
    """Index of the last parameter that can only be passed positionally, else -1."""
    forced = -1
    for index, param in enumerate(params):
        if (param.kind is param.POSITIONAL_ONLY and param.name in parameters) or (
                param.kind is param.VAR_POSITIONAL and parameters.get(param.name)):
            forced = index
    return forced


def _default(param: inspect.Parameter) -> Any:
    if param.default is inspect.Parameter.empty:
        raise ParameterError(f"required parameter {param.name!r} is missing")
    return param.default
