"""Flow parameters validated (and coerced) from the signature with pydantic."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

import pydantic

from tasks_core.errors import ParameterError

__all__ = ["ParameterValidator"]

_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class ParameterValidator:
    """Validates bound parameters against a function's annotations (built once, reused)."""

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        self.name = name
        signature = inspect.signature(fn)
        try:
            hints = get_type_hints(fn)
        except Exception:  # unresolvable forward references: validate what we can
            hints = {}
        fields: dict[str, Any] = {}
        self.accepts_extra = any(p.kind is inspect.Parameter.VAR_KEYWORD
                                 for p in signature.parameters.values())
        for param in signature.parameters.values():
            if param.kind in _VARIADIC:
                continue
            annotation = hints.get(param.name, Any)
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[param.name] = (annotation, default)
        self.model = pydantic.create_model(
            f"{name}_parameters",
            __config__=pydantic.ConfigDict(arbitrary_types_allowed=True),
            **fields,
        )

    def validate_partial(self, parameters: dict[str, Any]) -> None:
        """Check only the given parameters (deployment defaults); ParameterError if bad."""
        unknown = [k for k in parameters if k not in self.model.model_fields]
        if unknown and not self.accepts_extra:
            raise ParameterError(f"invalid parameters for flow {self.name!r}: unknown "
                                 f"{unknown} (expected {sorted(self.model.model_fields)})")
        problems = []
        for name, value in parameters.items():
            field = self.model.model_fields.get(name)
            if field is None:
                continue
            try:
                pydantic.TypeAdapter(field.annotation).validate_python(value)
            except pydantic.ValidationError as exc:
                problems.append(f"{name}: {exc.errors()[0]['msg']} (got {value!r})")
        if problems:
            raise ParameterError(f"invalid parameters for flow {self.name!r}: "
                                 + "; ".join(problems))

    def validate(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Coerced parameters; ParameterError naming every bad parameter and what it expected."""
        checked = {k: v for k, v in parameters.items() if k in self.model.model_fields}
        try:
            model = self.model.model_validate(checked)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']} (got {err.get('input')!r})"
                for err in exc.errors()
            )
            raise ParameterError(f"invalid parameters for flow {self.name!r}: {problems}") from None
        coerced = {name: getattr(model, name) for name in checked}
        return {**parameters, **coerced}
