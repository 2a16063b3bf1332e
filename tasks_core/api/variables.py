"""`/api/variables`: list, read, set (create or replace) and delete variables, with the
checks of `tasks_core.variables.Variable` (name rules, JSON values of at most 5000
characters). A bad name or value is 422, an unknown name 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tasks_core.variables import (
    NAME_MAX_CHARS,
    Variable,
    VariableNotFound,
    list_variables,
    read_variable,
)

__all__ = ["VariableBody", "router"]

router = APIRouter(prefix="/variables", tags=["variables"])

_NAME = Path(max_length=NAME_MAX_CHARS, description="the variable's name")


class VariableBody(BaseModel):
    """What ``PUT /api/variables/{name}`` takes: the value (any JSON) and its tags."""

    model_config = ConfigDict(extra="forbid")

    value: Any = Field(description="any JSON value, at most 5000 characters of JSON")
    tags: list[str] = Field(default_factory=list, max_length=50)


def _found(name: str) -> Variable:
    found = read_variable(name)
    if found is None:
        raise VariableNotFound(f"variable {name!r} not found")
    return found


@router.get("", response_model=list[Variable], operation_id="list_variables",
            description="Every variable, by name.")
def list_all() -> list[Variable]:
    return list_variables()


@router.get("/{name}", response_model=Variable, operation_id="read_variable",
            description="One variable: name, value, tags, created, updated. 404 if unknown.")
def read(name: str = _NAME) -> Variable:
    return _found(name)


@router.put("/{name}", response_model=Variable, operation_id="set_variable",
            description="Create the variable or replace its value and tags (as "
                        "`Variable.set(name, value, overwrite=True)`). 422 for a bad name "
                        "or a value over 5000 characters of JSON.")
def put(body: VariableBody, name: str = _NAME) -> Variable:
    stored: Variable = Variable.set(name, body.value, tags=body.tags, overwrite=True,
                                    _sync=True)
    return stored


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="delete_variable", description="Delete a variable; 404 if "
                                                           "unknown.")
def delete(name: str = _NAME) -> Response:
    if not Variable.unset(name, _sync=True):
        raise VariableNotFound(f"variable {name!r} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
