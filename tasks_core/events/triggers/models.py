"""Trigger models: `EventTrigger`, `CompoundTrigger`, `SequenceTrigger` (pure data).

Shapes (JSON, as stored; ``within`` in seconds)::

    {"type": "event", "expect": ["tasks-core.flow-run.Completed"], "after": [],
     "match": {"tasks-core.resource.id": "tasks-core.flow-run.*"},
     "match_related": {"tasks-core.resource.role": "flow"} | [{...}, ...],
     "for_each": ["related:flow:tasks-core.resource.id"],
     "posture": "Reactive" | "Proactive", "threshold": 1, "within": 0.0}
    {"type": "compound", "require": "any" | "all" | N, "triggers": [...], "within": 60.0 | null}
    {"type": "sequence", "triggers": [...], "within": 60.0 | null}

Prefect's spellings (``prefect.resource.id``, ``prefect.flow-run.Completed``, ...) are
accepted and stored in tasks-core's (see `spelling`). ``within`` takes seconds, a
`timedelta` or an ISO-8601 duration. A child given as a dict is read by its ``type``, else
as compound when it has ``triggers`` and ``require``, sequence with ``triggers`` only,
else event (Prefect's rule).

Refused with `TriggerError` (a `tasks_core.errors.ValidationError`) naming the field: an
unknown posture, ``threshold`` < 1, a negative ``within``, a Proactive ``within`` under
10 s (an omitted or zero one becomes 10 s, as in Prefect), ``require`` not "any", "all"
or 1..len(triggers), a bad glob (`globs`), an unknown field, and an empty ``expect``
unless written ``{"*"}`` on purpose (an empty one would match every event, including the
automation's own, and fire forever).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated, Any, Literal, Self

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_serializer,
    field_validator,
    model_validator,
)

from tasks_core.errors import ValidationError
from tasks_core.events.triggers import spelling
from tasks_core.events.triggers.globs import GlobError, compile_glob
from tasks_core.events.triggers.matching import Matcher, compile_matcher

__all__ = ["MIN_PROACTIVE_WITHIN", "AnyTrigger", "CompoundTrigger", "EventTrigger",
           "LabelSpec", "SequenceTrigger", "Trigger", "TriggerError", "TriggerTypes",
           "describe_error", "parse_trigger"]

MIN_PROACTIVE_WITHIN = timedelta(seconds=10)
MAX_WITHIN = timedelta(days=365)
"""The longest window a trigger may have: longer ones could never be evaluated (dates
overflow) and keep state for ever."""
LabelSpec = dict[str, str | list[str]]
_TAGS = frozenset({"event", "compound", "sequence"})


class TriggerError(ValidationError):
    """A trigger that cannot be used; the message names the field and what is wrong."""


def describe_error(model: str, exc: pydantic.ValidationError) -> str:
    """One line from pydantic's errors: ``EventTrigger: within: must be >= 0 s, got -1 s``."""
    parts = []
    for error in exc.errors():
        # a child's union tag ("event", ...) says nothing the child's own message does not
        where = ".".join(str(p) for p in error["loc"] if p not in _TAGS)
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    text = "; ".join(parts)
    # a model with its own __init__ is validated through it: its TriggerError comes back
    # already named (model_validate would otherwise say "EventTrigger: EventTrigger: ...")
    return text if not model or text.startswith(f"{model}: ") else f"{model}: {text}"


class Trigger(BaseModel):
    """Base of the trigger models: forbids unknown fields, raises `TriggerError`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise TriggerError(describe_error(type(self).__name__, exc)) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """As pydantic's, raising `TriggerError` (e.g. for a stored automation's JSON)."""
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as exc:
            raise TriggerError(describe_error(cls.__name__, exc)) from None


def _seconds(value: Any) -> Any:
    if value is None:
        raise ValueError("must be a number of seconds or a timedelta, not None")
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds or a timedelta, not a bool")
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > MAX_WITHIN.total_seconds():
            raise ValueError(f"must be at most {MAX_WITHIN.total_seconds():g} s (365 days), "
                             f"got {value:g} s")
        return timedelta(seconds=value)
    return value


def _non_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError(f"must be >= 0 s, got {value.total_seconds():g} s")
    if value > MAX_WITHIN:
        raise ValueError(f"must be at most {MAX_WITHIN.total_seconds():g} s (365 days), got "
                         f"{value.total_seconds():g} s")
    return value


def _names(value: Any) -> Any:
    """A single string is one name; sets, lists and tuples are taken as they are."""
    return [value] if isinstance(value, str) else value


class EventTrigger(Trigger):
    """Fires on the presence (Reactive) or absence (Proactive) of matching events.

    Args:
        expect: event-name globs that count toward ``threshold`` (``{"*"}``: every event).
        after: event-name globs one of which must come first to open a window.
        match: the primary resource's spec, label -> glob or list of globs.
        match_related: a spec, or a list of specs each some related resource must meet.
        for_each: labels (or ``related:<role>:<label>``) to count separately per value.
        posture: "Reactive" (fire when ``threshold`` events come within ``within``) or
            "Proactive" (fire when fewer than ``threshold`` come within ``within``).
        threshold: the number of events, >= 1.
        within: the window, >= 0 s (Reactive 0: no window); Proactive >= 10 s.

    Raises:
        TriggerError: naming the field, for any refusal listed in the module docstring.
    """

    type: Literal["event"] = "event"
    match: LabelSpec = Field(default_factory=dict)
    match_related: LabelSpec | list[LabelSpec] = Field(default_factory=dict)
    after: frozenset[str] = frozenset()
    expect: frozenset[str] = Field(default=frozenset(), validate_default=True)
    for_each: frozenset[str] = frozenset()
    posture: Literal["Reactive", "Proactive"] = "Reactive"
    threshold: int = 1
    within: timedelta = timedelta(0)

    _matcher: Matcher = PrivateAttr()

    @field_validator("posture", mode="before")
    @classmethod
    def _posture(cls, value: Any) -> Any:
        if value not in ("Reactive", "Proactive"):
            extra = " (metric triggers are not supported)" if value == "Metric" else ""
            raise ValueError(f"must be 'Reactive' or 'Proactive', got {value!r}{extra}")
        return value

    @field_validator("expect", "after", mode="before")
    @classmethod
    def _event_names(cls, value: Any) -> Any:
        value = _names(value)
        if isinstance(value, Iterable):
            return [spelling.event_name(n) if isinstance(n, str) else n for n in value]
        return value

    @field_validator("expect")
    @classmethod
    def _expect_named(cls, value: frozenset[str]) -> frozenset[str]:
        if not value:
            raise ValueError(
                "is empty, which would match every event (the automation's own too, "
                "firing forever); name the events, or write expect={'*'} to mean every "
                "event on purpose")
        return value

    @field_validator("expect", "after")
    @classmethod
    def _name_globs(cls, value: frozenset[str]) -> frozenset[str]:
        for glob in value:
            compile_glob(glob)
        return value

    @field_validator("for_each", mode="before")
    @classmethod
    def _for_each(cls, value: Any) -> Any:
        value = _names(value)
        if isinstance(value, Iterable):
            return [spelling.for_each_label(n) if isinstance(n, str) else n for n in value]
        return value

    @field_validator("match", mode="before")
    @classmethod
    def _match(cls, value: Any) -> Any:
        return _respell_spec(value)

    @field_validator("match_related", mode="before")
    @classmethod
    def _match_related(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [_respell_spec(spec) for spec in value]
        return _respell_spec(value)

    @field_validator("match")
    @classmethod
    def _match_globs(cls, value: LabelSpec) -> LabelSpec:
        _check_spec(value)
        return value

    @field_validator("match_related")
    @classmethod
    def _related_globs(cls, value: LabelSpec | list[LabelSpec]) -> LabelSpec | list[LabelSpec]:
        for spec in [value] if isinstance(value, dict) else value:
            _check_spec(spec)
        return value

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("within", mode="before")
    @classmethod
    def _within_in(cls, value: Any) -> Any:
        return _seconds(value)

    @field_validator("within")
    @classmethod
    def _within(cls, value: timedelta) -> timedelta:
        return _non_negative(value)

    @model_validator(mode="before")
    @classmethod
    def _proactive_default_window(cls, data: Any) -> Any:
        # Prefect turns an omitted or zero window of a Proactive trigger into 10 s.
        if isinstance(data, dict) and data.get("posture") == "Proactive":
            within = data.get("within", 0)
            if within in (0, timedelta(0)) and not isinstance(within, bool):
                data = {**data, "within": MIN_PROACTIVE_WITHIN}
        return data

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if self.posture == "Proactive" and self.within < MIN_PROACTIVE_WITHIN:
            raise ValueError(f"within of a Proactive trigger must be at least 10 s, got "
                             f"{self.within.total_seconds():g} s")
        self._matcher = compile_matcher(expect=self.expect, after=self.after,
                                        match=self.match, match_related=self.match_related,
                                        for_each=self.for_each)
        return self

    @field_serializer("expect", "after", "for_each")
    def _sorted(self, value: frozenset[str]) -> list[str]:
        return sorted(value)

    @field_serializer("within")
    def _within_seconds(self, value: timedelta) -> float:
        return value.total_seconds()

    @property
    def matcher(self) -> Matcher:
        """The compiled globs and specs (built once, at validation)."""
        return self._matcher


def _check_spec(spec: LabelSpec) -> None:
    for label, globs in spec.items():
        for glob in [globs] if isinstance(globs, str) else globs:
            try:
                compile_glob(glob)
            except GlobError as exc:
                raise ValueError(f"label {label!r}: {exc}") from None


def _respell_spec(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    spec: dict[Any, Any] = {}
    for key, globs in value.items():
        if not isinstance(key, str):
            spec[key] = globs
            continue
        ours = spelling.label_key(key)
        if isinstance(globs, str):
            spec[ours] = spelling.label_value(ours, globs)
        elif isinstance(globs, list | tuple | set | frozenset):
            spec[ours] = [spelling.label_value(ours, g) if isinstance(g, str) else g
                          for g in globs]
        else:
            spec[ours] = globs
    return spec


def _kind(value: Any) -> str | None:
    """Prefect's discriminator: explicit type; triggers+require; triggers; else event."""
    if isinstance(value, dict):
        explicit = value.get("type")
        if explicit:
            return str(explicit)
        if "triggers" in value:
            return "compound" if "require" in value else "sequence"
        return "event"
    kind = getattr(value, "type", None)
    return kind if isinstance(kind, str) else None


class _Composite(Trigger):
    triggers: list[TriggerTypes]
    within: timedelta | None = None

    @field_validator("within", mode="before")
    @classmethod
    def _within_in(cls, value: Any) -> Any:
        return None if value is None else _seconds(value)

    @field_validator("within")
    @classmethod
    def _within(cls, value: timedelta | None) -> timedelta | None:
        return None if value is None else _non_negative(value)

    @field_validator("triggers")
    @classmethod
    def _some(cls, value: list[Any]) -> list[Any]:
        if not value:
            raise ValueError("needs at least one trigger")
        return value

    @field_serializer("within")
    def _within_seconds(self, value: timedelta | None) -> float | None:
        return None if value is None else value.total_seconds()

    @property
    def window(self) -> timedelta | None:
        """How close together the children must fire (None or 0 s: no limit)."""
        return self.within if self.within else None


class CompoundTrigger(_Composite):
    """Fires when ``require`` of its child triggers ("any", "all" or N) have fired within
    ``within`` (None or 0: no limit).

    Raises:
        TriggerError: ``require`` out of range, no children, a bad child, negative within.
    """

    type: Literal["compound"] = "compound"
    require: int | Literal["any", "all"]

    @field_validator("require", mode="before")
    @classmethod
    def _require_kind(cls, value: Any) -> Any:
        if isinstance(value, bool) or not (isinstance(value, int) or value in ("any", "all")):
            raise ValueError(f"must be 'any', 'all' or a number of triggers, got {value!r}")
        return value

    @model_validator(mode="after")
    def _require_range(self) -> Self:
        if isinstance(self.require, int) and not 1 <= self.require <= len(self.triggers):
            raise ValueError(f"require must be between 1 and the number of triggers "
                             f"({len(self.triggers)}), got {self.require}")
        return self

    @property
    def required(self) -> int:
        """How many distinct children must fire."""
        if self.require == "any":
            return 1
        if self.require == "all":
            return len(self.triggers)
        return self.require


class SequenceTrigger(_Composite):
    """Fires when all its child triggers have fired, in their order, within ``within``.

    Raises:
        TriggerError: no children, a bad child, negative within.
    """

    type: Literal["sequence"] = "sequence"


TriggerTypes = Annotated[
    Annotated[EventTrigger, Tag("event")]
    | Annotated[CompoundTrigger, Tag("compound")]
    | Annotated[SequenceTrigger, Tag("sequence")],
    Discriminator(_kind, custom_error_type="trigger_type",
                  custom_error_message="a trigger's type must be 'event', 'compound' or "
                                       "'sequence'"),
]

CompoundTrigger.model_rebuild()
SequenceTrigger.model_rebuild()

AnyTrigger = EventTrigger | CompoundTrigger | SequenceTrigger
_ANY: pydantic.TypeAdapter[AnyTrigger] = pydantic.TypeAdapter(TriggerTypes)


def parse_trigger(data: Any) -> AnyTrigger:
    """A trigger of any type from JSON data (a stored automation's ``trigger``).

    Raises:
        TriggerError: naming the field, as the constructors do.
    """
    try:
        return _ANY.validate_python(data)
    except pydantic.ValidationError as exc:
        raise TriggerError(describe_error("", exc)) from None
