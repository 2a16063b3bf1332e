"""The event feed: filter the stream, newest first (`list_events`), or follow it (`follow`).

Filters are globs (`fnmatch`: ``*`` anywhere, ``?``, ``[...]``), case-sensitive, in either
spelling (``prefect.flow-run.*`` reads as ``tasks-core.flow-run.*``). Times select by when
the stream received an event (its entry id), so a window is a range read, never a scan of
the whole stream. An entry that is not a valid event is skipped (logged), never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase

import pydantic

from tasks_core.events.schema import Event
from tasks_core.events.spelling import normalize_id, normalize_name
from tasks_core.store.events import Entry, EventStore

__all__ = ["EventFilter", "follow", "follow_start", "list_events", "parse_entry", "read_after"]

log = logging.getLogger("tasks_core.events")

PAGE = 500
"""Entries read per round trip."""


@dataclass(frozen=True)
class EventFilter:
    """Which events to show; every given part must match (AND).

    Attributes:
        events: event-name globs; any may match (empty: every name).
        resource: a glob on the resource's id.
        related: a glob that some related resource's id must match.
        since, until: the window of receipt (inclusive); None: unbounded.
    """

    events: Sequence[str] = field(default_factory=tuple)
    resource: str | None = None
    related: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def normalized(self) -> EventFilter:
        """The same filter in tasks-core's spelling."""
        return EventFilter(
            events=tuple(normalize_name(g) for g in self.events),
            resource=normalize_id(self.resource) if self.resource else None,
            related=normalize_id(self.related) if self.related else None,
            since=self.since, until=self.until)

    def matches(self, event: Event) -> bool:
        """Whether `event` passes (globs in tasks-core's spelling: see `normalized`)."""
        if self.events and not any(fnmatchcase(event.event, g) for g in self.events):
            return False
        if self.resource and not fnmatchcase(event.resource_id, self.resource):
            return False
        return not self.related or any(fnmatchcase(i, self.related)
                                       for i in event.related_ids())

    @property
    def min_id(self) -> str:
        """The oldest stream entry id in the window."""
        return f"{_ms(self.since)}-0" if self.since else "-"

    @property
    def max_id(self) -> str:
        """The newest stream entry id in the window."""
        return f"{_ms(self.until)}-{2**64 - 1}" if self.until else "+"


def _ms(moment: datetime) -> int:
    """`moment` as a stream entry id's milliseconds (before 1970: 0, the stream's start)."""
    return max(int(moment.timestamp() * 1000), 0)


def parse_entry(entry: Entry) -> Event | None:
    """The event of a stream entry; None (logged) when it is not a valid event."""
    entry_id, text = entry
    try:
        return Event.model_validate_json(text)
    except (pydantic.ValidationError, ValueError) as exc:
        log.warning("stream entry %s is not an event, skipped: %s", entry_id, str(exc)[:200])
        return None


def list_events(store: EventStore, where: EventFilter, *, limit: int = 50) -> list[Event]:
    """Up to `limit` events passing `where`, newest first, read page by page."""
    where = where.normalized()
    found: list[Event] = []
    max_id = where.max_id
    while len(found) < limit:
        page = store.newest_first(max_id=max_id, min_id=where.min_id, count=PAGE)
        for entry in page:
            event = parse_entry(entry)
            if event is not None and where.matches(event):
                found.append(event)
                if len(found) == limit:
                    break
        if len(page) < PAGE:
            break
        max_id = f"({page[-1][0]}"  # exclusive: below the last entry read
    return found


def follow(store: EventStore, where: EventFilter, *, start: str = "$",
           block_ms: int = 1000, stop: Callable[[], bool] = lambda: False
           ) -> Iterator[Event]:
    """Events passing `where` as they arrive, oldest first, until `stop()` is true.

    Args:
        start: the entry id to follow from (exclusive); ``$``: only new events.
        block_ms: how long one read waits for new entries (`stop` is checked between).
    """
    where = where.normalized()
    last = store.last_id() if start == "$" else start
    while not stop():
        last, found = read_after(store, where, last, block_ms=block_ms)
        yield from (event for _entry_id, event in found)


def read_after(store: EventStore, where: EventFilter, last: str, *, block_ms: int
               ) -> tuple[str, list[tuple[str, Event]]]:
    """One read of `follow`: the entries after `last` (waiting up to `block_ms` for one).

    Args:
        where: the filter, already `EventFilter.normalized`.
        last: the entry id to read after (exclusive), e.g. `EventStore.last_id()`.

    Returns:
        The entry id to read after next time, and (entry id, event) of the events read that
        pass `where`, oldest first.
    """
    passed: list[tuple[str, Event]] = []
    for entry in store.after(last, block_ms=block_ms):
        last = entry[0]
        event = parse_entry(entry)
        if event is not None and where.matches(event) and _in_time(event, where):
            passed.append((entry[0], event))
    return last, passed


def follow_start(since: datetime | None) -> str:
    """The entry id to follow from (exclusive) so that events received at or after `since`
    come first; ``$`` (only new events) when `since` is None."""
    if since is None:
        return "$"
    return f"{max(_ms(since) - 1, 0)}-{2**64 - 1}"  # XREAD is exclusive


def _in_time(event: Event, where: EventFilter) -> bool:
    received = event.received or event.occurred
    return ((where.since is None or received >= where.since)
            and (where.until is None or received <= where.until))
