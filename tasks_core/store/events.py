"""The event stream in Redis: batched writes (once per id), reads newest first, following.

Every event is one entry of ``p:events``: a single field ``event`` holding its JSON, or, for
run-state events appended by create.lua / transition.lua / canvas_follow.lua, a single field
``run`` holding their compact form; reads give every event's full JSON
(`tasks_core.run_event_codec.entry_text`). Entry ids
are Redis' (``<ms>-<seq>``, the time the stream received the event), so a time window is a
range of entry ids. Retention: about `max_entries` entries (MAXLEN ~) and nothing older
than `max_age_seconds` (MINID ~), applied at every write and by `trim()`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import redis

from tasks_core.run_event_codec import entry_text
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["Entry", "EventStore", "entry_ms"]

Entry = tuple[str, str]
"""One stream entry: (entry id ``<ms>-<seq>``, the event's JSON)."""


def entry_ms(entry_id: str) -> int:
    """The millisecond timestamp of a stream entry id."""
    return int(entry_id.split("-", 1)[0])


class EventStore(KeyedStore):
    """Append events to the stream and read them back."""

    def __init__(self, client: redis.Redis, keys: Keys, *, max_entries: int,
                 max_age_seconds: int) -> None:
        super().__init__(client, keys)
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._emit = self.script("emit_events.lua")

    def write(self, events: Sequence[tuple[str, str]]) -> int:
        """Append events given as (id, JSON), in order, each at most once by id (in one
        atomic call); how many were new. Safe to repeat after a lost reply.

        Raises:
            StoreUnavailable: Redis is away (nothing or everything of the batch was written).
        """
        if not events:
            return 0
        keys = [self.keys.events, *(self.keys.event_seen(i) for i, _ in events)]
        args: list[str | int] = [self.max_entries, self.max_age_seconds,
                                 *(text for _, text in events)]
        return int(self._emit(keys=keys, args=args))

    def trim(self, now: float | None = None) -> int:
        """Drop entries older than the retention age (approximate); how many went."""
        now = time.time() if now is None else now
        oldest = int((now - self.max_age_seconds) * 1000)
        return int(self.client.xtrim(self.keys.events, minid=str(max(oldest, 0)),
                                     approximate=True))

    def newest_first(self, *, max_id: str = "+", min_id: str = "-",
                     count: int = 500) -> list[Entry]:
        """Up to `count` entries from `max_id` down to `min_id` (inclusive; ``(id`` is
        exclusive), newest first."""
        raw: Any = self.client.xrevrange(self.keys.events, max=max_id, min=min_id, count=count)
        return [(str(entry_id), entry_text(fields) or "") for entry_id, fields in raw or []]

    def find(self, event_id: str, *, near_ms: int | None = None, window_ms: int = 60_000,
             page: int = 1000) -> Entry | None:
        """The stored entry of the event whose ``id`` is `event_id` (its exact JSON); None
        when it is not (or no longer) stored.

        Events are indexed by stream entry id only, so this reads pages of `page` entries,
        newest first (a whole-text check comes before parsing). With `near_ms` (epoch
        milliseconds, e.g. the event's ``received``), entries within `window_ms` of it are
        read first; then, or without it, the whole retained stream.
        """
        if near_ms is not None:
            low, high = max(near_ms - window_ms, 0), near_ms + window_ms
            found = self._scan(event_id, f"{high}-{2**64 - 1}", f"{low}-0", page)
            if found is not None:
                return found
        return self._scan(event_id, "+", "-", page)

    def _scan(self, event_id: str, max_id: str, min_id: str, page: int) -> Entry | None:
        needle = json.dumps(event_id)
        while True:
            entries = self.newest_first(max_id=max_id, min_id=min_id, count=page)
            for entry in entries:
                if needle in entry[1] and _id_of(entry[1]) == event_id:
                    return entry
            if len(entries) < page:
                return None
            max_id = f"({entries[-1][0]}"

    def last_id(self) -> str:
        """The id of the newest entry ("0-0" when the stream is empty)."""
        raw: Any = self.client.xrevrange(self.keys.events, count=1)
        return str(raw[0][0]) if raw else "0-0"

    def after(self, entry_id: str, *, block_ms: int, count: int = 500) -> list[Entry]:
        """Entries after `entry_id`, oldest first, waiting up to `block_ms` for one."""
        raw: Any = self.client.xread({self.keys.events: entry_id}, count=count, block=block_ms)
        return [(str(eid), entry_text(fields) or "")
                for _stream, entries in raw or [] for eid, fields in entries]

    def length(self) -> int:
        """How many entries the stream holds."""
        return int(self.client.xlen(self.keys.events))


def _id_of(text: str) -> object:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data.get("id") if isinstance(data, dict) else None
