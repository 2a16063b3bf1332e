"""Resource specifications: which resources a trigger's ``match`` / ``match_related`` take.

A spec is a dict ``label -> glob | [glob, ...]``. Its rules (as Prefect's server):

- several labels in one spec: all must match (AND);
- a list of globs for one label: any may match (OR);
- a leading ``!`` negates one glob (``["dev-*", "!dev-x"]`` is an OR, so it still takes
  ``dev-x``; to exclude inside a wildcard use a list of ``match_related`` specs);
- a label the resource does not have never matches, negated or not;
- the empty spec matches every resource, and also an event with no related resources.

``match`` is one spec tested on the event's primary resource. ``match_related`` is one
spec or a list of specs: each spec needs some related resource matching all its labels
(they may be different resources).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tasks_core.events.schema import RESOURCE_ROLE
from tasks_core.events.triggers.globs import Glob, compile_glob

__all__ = ["CompiledSpec", "LabelFailure", "compile_spec", "find_label"]

Labels = Mapping[str, str]


@dataclass(frozen=True)
class LabelFailure:
    """The first label of a spec a resource failed: the label, its globs, the value seen."""

    label: str
    globs: tuple[str, ...]
    value: str | None


@dataclass(frozen=True)
class CompiledSpec:
    """A spec with its globs compiled: ``((label, (glob, ...)), ...)``."""

    labels: tuple[tuple[str, tuple[Glob, ...]], ...]

    def matches(self, resource: Labels) -> bool:
        """Whether `resource` has every label of the spec with a matching value."""
        return all(any(g.matches(resource.get(label)) for g in globs)
                   for label, globs in self.labels)

    def first_failure(self, resource: Labels) -> LabelFailure | None:
        """The first label `resource` fails, or None when it matches."""
        for label, globs in self.labels:
            value = resource.get(label)
            if not any(g.matches(value) for g in globs):
                return LabelFailure(label, tuple(g.source for g in globs), value)
        return None

    def includes(self, resources: Sequence[Labels]) -> bool:
        """Whether some resource of `resources` matches (always, for the empty spec)."""
        return not self.labels or any(self.matches(r) for r in resources)


def compile_spec(spec: Mapping[str, str | Sequence[str]]) -> CompiledSpec:
    """Compile a spec; `GlobError` (a ValueError) for a glob that cannot be used."""
    labels = []
    for label, value in spec.items():
        sources = [value] if isinstance(value, str) else list(value)
        labels.append((label, tuple(compile_glob(s) for s in sources)))
    return CompiledSpec(tuple(labels))


def find_label(resource: Labels, related: Sequence[Labels], label: str) -> str | None:
    """A label's value, on the primary resource or as ``related:<role>:<label>``.

    The related form reads the first related resource in that role that has the label.
    """
    if label.startswith("related:"):
        role, _, key = label[len("related:"):].partition(":")
        for other in related:
            if other.get(RESOURCE_ROLE) == role and key in other:
                return other[key]
        return None
    return resource.get(label)
