"""`TriggerIndex`: from an event's name to the triggers that might care, without a scan.

Each trigger is filed under the literal prefixes of its event-name globs (``expect`` and
``after`` of every event trigger in it): ``tasks-core.flow-run.*`` under
``tasks-core.flow-run.``, ``acme.order.created`` under itself. A glob with no literal
prefix (``*``, ``?x``, ``[ab]*``) or a negated one (``!x``) files its trigger as "always a
candidate". A lookup tries each distinct prefix length among those filed (a dict lookup
each), so its cost grows with the name's length, not with the number of triggers that
cannot match. Candidates are a superset: the trigger's `Matcher` makes the exact test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from tasks_core.events.triggers.globs import compile_glob
from tasks_core.events.triggers.models import (
    AnyTrigger,
    EventTrigger,
)

__all__ = ["TriggerIndex", "event_triggers", "name_prefixes"]

K = TypeVar("K", bound=Hashable)


def event_triggers(trigger: AnyTrigger) -> Iterator[EventTrigger]:
    """The event triggers in a trigger tree (the trigger itself, for an event trigger)."""
    if isinstance(trigger, EventTrigger):
        yield trigger
        return
    for child in trigger.triggers:
        yield from event_triggers(child)


def name_prefixes(trigger: AnyTrigger) -> set[str]:
    """The literal prefixes of a trigger's event-name globs ("" means: any name)."""
    return {compile_glob(glob).prefix for leaf in event_triggers(trigger)
            for glob in leaf.expect | leaf.after}


class TriggerIndex(Generic[K]):
    """Triggers filed by the literal prefixes of their event-name globs."""

    def __init__(self) -> None:
        self._by_prefix: dict[str, set[K]] = defaultdict(set)
        self._lengths: dict[int, int] = defaultdict(int)  # prefix length -> prefixes filed
        self._any: set[K] = set()
        self._filed: dict[K, set[str]] = {}

    def add(self, key: K, trigger: AnyTrigger) -> None:
        """File `trigger` under `key` (replacing what `key` had)."""
        self.remove(key)
        prefixes = name_prefixes(trigger)
        self._filed[key] = prefixes
        for prefix in prefixes:
            if not prefix:
                self._any.add(key)
                continue
            if not self._by_prefix[prefix]:
                self._lengths[len(prefix)] += 1
            self._by_prefix[prefix].add(key)

    def remove(self, key: K) -> None:
        """Forget `key` (nothing happens when it is not filed)."""
        for prefix in self._filed.pop(key, set()):
            if not prefix:
                self._any.discard(key)
                continue
            keys = self._by_prefix[prefix]
            keys.discard(key)
            if not keys:
                del self._by_prefix[prefix]
                self._lengths[len(prefix)] -= 1
                if not self._lengths[len(prefix)]:
                    del self._lengths[len(prefix)]

    def candidates(self, event_name: str) -> set[K]:
        """The keys whose triggers might match an event of this name."""
        found = set(self._any)
        for length in self._lengths:
            if length <= len(event_name):
                found |= self._by_prefix.get(event_name[:length], set())
        return found

    def __len__(self) -> int:
        return len(self._filed)

    def __contains__(self, key: object) -> bool:
        return key in self._filed
