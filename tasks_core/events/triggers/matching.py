"""Pure matching of one event against one event trigger (no time, no state).

`Matcher` holds a trigger's globs and specs compiled; `EventTrigger.matcher` builds it once.
An event is *covered* by a trigger when its name matches ``expect`` or ``after`` and its
resources match ``match`` and ``match_related`` (see `specs` for the label rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tasks_core.events.schema import Event
from tasks_core.events.triggers.globs import Glob, compile_glob
from tasks_core.events.triggers.specs import CompiledSpec, compile_spec, find_label

__all__ = ["Matcher", "compile_matcher"]

Spec = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class Matcher:
    """A trigger's compiled globs and specs.

    Attributes:
        expect: globs of the event names that count.
        after: globs of the event names that open a window (empty: none needed).
        match: the spec of the primary resource.
        related: the specs of related resources (each must be met).
        for_each: the bucketing labels, sorted.
    """

    expect: tuple[Glob, ...]
    after: tuple[Glob, ...]
    match: CompiledSpec
    related: tuple[CompiledSpec, ...]
    for_each: tuple[str, ...]

    def expects(self, name: str) -> bool:
        """Whether an event of this name counts toward the threshold."""
        return any(g.matches(name) for g in self.expect)

    def starts_after(self, name: str) -> bool:
        """Whether an event of this name opens a window (never, without ``after``)."""
        return any(g.matches(name) for g in self.after)

    def resources_match(self, event: Event) -> bool:
        """Whether the event's resource and related resources meet the specs."""
        return self.match.matches(event.resource) and all(
            spec.includes(event.related) for spec in self.related)

    def covers(self, event: Event) -> bool:
        """Whether the trigger takes any interest in `event` (expected or opening)."""
        name = event.event
        return (self.expects(name) or self.starts_after(name)) and self.resources_match(event)

    def bucket_key(self, event: Event) -> tuple[str, ...]:
        """The ``for_each`` values of `event` in sorted label order ("" when missing)."""
        return tuple(find_label(event.resource, event.related, label) or ""
                     for label in self.for_each)


def compile_matcher(*, expect: Iterable[str], after: Iterable[str], match: Spec,
                    match_related: Spec | Sequence[Spec],
                    for_each: Iterable[str]) -> Matcher:
    """Compile a trigger's fields; `GlobError` (a ValueError) for a bad glob."""
    specs = [match_related] if isinstance(match_related, Mapping) else list(match_related)
    return Matcher(
        expect=tuple(compile_glob(g) for g in sorted(expect)),
        after=tuple(compile_glob(g) for g in sorted(after)),
        match=compile_spec(match),
        related=tuple(compile_spec(s) for s in specs),
        for_each=tuple(sorted(for_each)),
    )
