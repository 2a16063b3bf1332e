"""Check run parameters against a deployment's stored JSON schema, before a run exists."""

from __future__ import annotations

from typing import Any

from tasks_core.errors import ParameterError

__all__ = ["check_parameters"]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,), "number": (int, float), "string": (str,), "boolean": (bool,),
    "array": (list, tuple), "object": (dict,), "null": (type(None),),
}


def _accepts(spec: dict[str, Any], value: Any) -> bool:
    options = spec.get("anyOf") or spec.get("oneOf")
    if options:
        return any(_accepts(option, value) for option in options)
    kind = spec.get("type")
    if kind is None:
        return True
    kinds = kind if isinstance(kind, list) else [kind]
    for name in kinds:
        allowed = _JSON_TYPES.get(name, (object,))
        if isinstance(value, allowed) and not (name in ("integer", "number")
                                               and isinstance(value, bool)):
            return True
        if name in ("integer", "number") and isinstance(value, str):
            try:  # the flow's own validation coerces "1" -> 1 as when it is called
                float(value)
                return True
            except ValueError:
                return False
    return False


def check_parameters(schema: dict[str, Any], parameters: dict[str, Any], name: str) -> None:
    """ParameterError naming every unknown, missing or mistyped parameter."""
    properties: dict[str, Any] = schema.get("properties", {})
    problems = []
    for key, value in parameters.items():
        if key not in properties:
            if not schema.get("additionalProperties", False):
                problems.append(f"{key}: unknown parameter (expected one of "
                                f"{sorted(properties) or 'none'})")
        elif not _accepts(properties[key], value):
            expected = properties[key].get("type") or properties[key].get("anyOf")
            problems.append(f"{key}: expected {expected}, got {value!r}")
    for key in schema.get("required", []):
        if key not in parameters:
            problems.append(f"{key}: required parameter missing")
    if problems:
        raise ParameterError(f"invalid parameters for deployment {name!r}: "
                             + "; ".join(problems))
