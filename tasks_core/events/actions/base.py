"""The base of the action models (`ActionBase`) and the checks their targets share: pure
data, no Redis. The actions themselves are in `models` (and `outgoing`: notifications and
webhooks); their JSON shapes are documented there."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

import pydantic
from pydantic import BaseModel, ConfigDict

from tasks_core.events.actions.errors import ActionError

__all__ = ["ActionBase", "Source", "selected_or_inferred", "target_text"]

Source = Literal["selected", "inferred"]

_TAGS: set[str] = set()
"""The ``type`` of every action model (the action union's tags, which pydantic puts in an
error's location: left out of the field names `_describe` gives)."""


def _describe(model: str, exc: pydantic.ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"] if p not in _TAGS)
        # pydantic routes model_validate through our __init__: its ActionError comes back
        # wrapped, already naming the model
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix(f"{model}: ")
        parts.append(f"{where}: {message}" if where else message)
    return (f"{model}: " if model else "") + "; ".join(parts)


class ActionBase(BaseModel):
    """Base of the action models: forbids unknown fields, raises `ActionError`.

    Class attributes:
        templated: the fields rendered as Jinja2 templates when the action runs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    templated: ClassVar[tuple[str, ...]] = ()
    type: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        tag = cls.model_fields["type"].default
        if isinstance(tag, str):  # a concrete action: its ``type`` is a union tag
            _TAGS.add(tag)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise ActionError(_describe(type(self).__name__, exc)) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """As pydantic's, raising `ActionError` (e.g. for a stored automation's JSON)."""
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as exc:
            raise ActionError(_describe(cls.__name__, exc)) from None

    def describe(self) -> str:
        """A human-readable line, e.g. ``Run deployment 'etl/daily'``."""
        text = self.type.replace("-", " ").capitalize()
        target = self.target_text()
        return f"{text} {target}" if target else text

    def target_text(self) -> str:
        """How the target is named (``'etl/daily'``, ``inferred from the event``), or ""."""
        return ""


def selected_or_inferred(model: str, source: str, given: dict[str, Any],
                         what: str) -> None:
    """Check an action's target: named by exactly one of `given` (selected), or none of
    them (inferred from the triggering event).

    Raises:
        ValueError: naming the fields and the fix (pydantic wraps it, `ActionBase` raises
            it as an `ActionError`).
    """
    named = {k: v for k, v in given.items() if v is not None}
    choices = " or ".join(given)
    if source == "inferred" and named:
        raise ValueError(f"{', '.join(named)} is not allowed with source='inferred' (the "
                         f"{what} is taken from the triggering event); drop it or use "
                         f"source='selected'")
    if source == "selected" and len(named) != 1:
        problem = "both are given" if named else "neither is given"
        raise ValueError(f"source='selected' needs exactly one of {choices} ({problem}); "
                         f"or use source='inferred' to take the {what} from the event")


def target_text(source: str, given: dict[str, str | None]) -> str:
    """How an action's target is named: the first name or id given, or "inferred from
    the event"."""
    if source == "inferred":
        return "inferred from the event"
    return next((repr(v) for v in given.values() if v is not None), "")
