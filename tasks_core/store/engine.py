"""The trigger engine's Redis: its consumer group on the event stream, evaluator state,
pending firings, action claims, firing chains and loop stops.

    p:events                 the stream, read by the consumer group ``p:engine:group``
    p:engine:state           HASH   automation id -> JSON {"trigger": fingerprint, "state": ...}
    p:engine:evaluated       ZSET   entry ids evaluated (committed), not acked yet
    p:engine:pending         HASH   "<automation id>:<firing id>" -> JSON of a pending firing
    p:engine:action:<key>    STRING "started" | "done" | "failed: <error>" (SET NX, TTL)
    p:engine:firing:<id>     STRING JSON {"automation_id", "depth", "chain"} (TTL)
    p:automation:<id>:loop-stop STRING JSON of the last loop-stopped event (TTL)
    p:metrics:firings        HASH   automation id -> firings executed (for `/metrics`)
    p:metrics:action-failures HASH  "<automation id>|<action type>" -> failed actions

The group is created at ``$`` with MKSTREAM on first use, so an engine starting on a stream
with history does not replay it: only events after the group exists are evaluated.
`commit` writes the evaluator states, the entries evaluated and the new pending firings in
one Lua
call (engine_commit.lua), only while the committing beat holds the beat lock, so a crash
leaves either all of a batch's outcome or none of it, and a beat that lost the lead
mid-pass writes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from tasks_core.run_event_codec import entry_text
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys
from tasks_core.store.locks import BEAT_LOCK

__all__ = ["EngineStore", "StreamEntry"]

log = logging.getLogger("tasks_core.store.engine")

StreamEntry = tuple[str, str | None]
"""(entry id, the event's JSON (`entry_text`); None when the entry has no event field)."""


def _entries(raw: Any) -> list[StreamEntry]:
    out: list[StreamEntry] = []
    for entry_id, fields in raw or []:
        if fields is None:  # deleted (trimmed) while pending
            out.append((str(entry_id), None))
            continue
        out.append((str(entry_id), entry_text(fields)))
    return out


def entry_key(entry_id: str) -> tuple[int, int]:
    """A stream entry id as a sortable pair (``"12-3"`` -> ``(12, 3)``)."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class EngineStore(KeyedStore):
    """What the trigger engine keeps in Redis (see the module docstring)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._commit = self.script("engine_commit.lua")

    # -- the consumer group ---------------------------------------------------------------

    def ensure_group(self) -> bool:
        """Create the consumer group at the stream's end (MKSTREAM); False if it existed."""
        try:
            self.client.xgroup_create(self.keys.events, self.keys.engine_group, id="$",
                                      mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" in str(exc):
                return False
            raise
        return True

    def read(self, consumer: str, *, block_ms: int, count: int = 500) -> list[StreamEntry]:
        """New entries for `consumer` (XREADGROUP ``>``), waiting up to `block_ms`."""
        raw: Any = self.client.xreadgroup(self.keys.engine_group, consumer,
                                          {self.keys.events: ">"}, count=count,
                                          block=max(block_ms, 1))
        return [e for _stream, entries in raw or [] for e in _entries(entries)]

    def reclaim(self, consumer: str, min_idle_ms: int, count: int = 500) -> list[StreamEntry]:
        """Entries read by any consumer and unacked for `min_idle_ms`, now `consumer`'s
        (XAUTOCLAIM, every page), oldest first."""
        found: list[StreamEntry] = []
        start = "0-0"
        while True:
            raw: Any = self.client.xautoclaim(self.keys.events, self.keys.engine_group,
                                              consumer, min_idle_ms, start_id=start,
                                              count=count)
            start = str(raw[0])
            found += _entries(raw[1])
            if start == "0-0":
                break
        return sorted(found, key=lambda e: entry_key(e[0]))

    def ack(self, entry_ids: Sequence[str]) -> None:
        """Acknowledge entries (XACK) and forget them as evaluated: the group is done."""
        if entry_ids:
            pipe = self.client.pipeline(transaction=True)
            pipe.xack(self.keys.events, self.keys.engine_group, *entry_ids)
            pipe.zrem(self.keys.engine_evaluated, *entry_ids)
            pipe.execute()

    def pending_count(self) -> int:
        """Entries read by the group and not acked yet."""
        info: Any = self.client.xpending(self.keys.events, self.keys.engine_group)
        return int(info["pending"]) if info else 0

    # -- evaluator state, entries evaluated, pending firings (one transaction) -------------

    def states(self) -> dict[str, dict[str, Any]]:
        """Every saved evaluator state, by automation id."""
        raw: Any = self.client.hgetall(self.keys.engine_state)
        return {str(k): json.loads(v) for k, v in raw.items()}

    def evaluated(self, entry_ids: Sequence[str]) -> set[str]:
        """Which of these entries were evaluated (committed) and not acked yet."""
        if not entry_ids:
            return set()
        scores: Any = self.client.zmscore(self.keys.engine_evaluated, list(entry_ids))
        return {e for e, score in zip(entry_ids, scores, strict=True) if score is not None}

    def commit(self, holder: str, states: Mapping[str, dict[str, Any] | None],
               evaluated: Sequence[str], pending: Mapping[str, dict[str, Any]]) -> bool:
        """Write states (None: drop), the entries evaluated and new pending firings
        atomically, only while `holder` holds the beat lock (engine_commit.lua); whether
        it was written."""
        encoded = {k: (json.dumps(v) if v is not None else False) for k, v in states.items()}
        rows = {k: json.dumps(v) for k, v in pending.items()}
        return bool(self._commit(
            keys=[self.keys.lock(BEAT_LOCK), self.keys.engine_state,
                  self.keys.engine_evaluated, self.keys.engine_pending],
            args=[holder, json.dumps(encoded), json.dumps(list(evaluated)), json.dumps(rows)]))

    def pending_firings(self) -> dict[str, dict[str, Any]]:
        """Firings whose actions are not all done, by ``<automation id>:<firing id>``."""
        raw: Any = self.client.hgetall(self.keys.engine_pending)
        return {str(k): json.loads(v) for k, v in raw.items()}

    def firing_done(self, key: str) -> None:
        """Forget a pending firing (all its actions ran or were given up)."""
        self.client.hdel(self.keys.engine_pending, key)

    # -- action claims --------------------------------------------------------------------

    def claim_action(self, key: str, ttl_seconds: int) -> str | None:
        """Claim one action of a firing (SET NX "started"): None when claimed now, else
        what the key holds ("started", "done" or "failed: ...")."""
        name = self.keys.engine_action(key)
        if self.client.set(name, "started", nx=True, ex=ttl_seconds):
            return None
        value = self.client.get(name)
        return "started" if value is None else str(value)

    def finish_action(self, key: str, outcome: str, ttl_seconds: int) -> None:
        """Record an action's outcome ("done" or "failed: <error>")."""
        self.client.set(self.keys.engine_action(key), outcome, ex=ttl_seconds)

    def release_action(self, key: str) -> None:
        """Free a claim (the action failed in a way worth retrying)."""
        self.client.delete(self.keys.engine_action(key))

    def action_outcome(self, key: str) -> str | None:
        """What the claim of `key` holds, or None."""
        value = self.client.get(self.keys.engine_action(key))
        return None if value is None else str(value)

    # -- counters for `/metrics` (tasks_core.store.metrics reads them) --------------------

    def count_firing(self, automation_id: str) -> None:
        """Count one firing of `automation_id` whose actions start (p:metrics:firings).

        A Redis error is logged, not raised: a lost count must not stop the actions.
        """
        self._count(self.keys.metrics_firings, automation_id)

    def count_action_failure(self, automation_id: str, action_type: str) -> None:
        """Count one action that failed for good (p:metrics:action-failures); a Redis error
        is logged, not raised."""
        self._count(self.keys.metrics_action_failures, f"{automation_id}|{action_type}")

    def _count(self, key: str, field: str) -> None:
        try:
            self.client.hincrby(key, field, 1)
        except redis.RedisError as exc:
            log.warning("metrics counter %s not written: %s", key, exc)

    # -- firing chains and loop stops -----------------------------------------------------

    def save_firing(self, firing_id: str, record: dict[str, Any], ttl_seconds: int) -> None:
        """Keep a firing's chain (JSON) for `ttl_seconds`."""
        self.client.set(self.keys.engine_firing(firing_id), json.dumps(record), ex=ttl_seconds)

    def firing(self, firing_id: str) -> dict[str, Any] | None:
        """A firing's chain record, or None (unknown or expired)."""
        text = self.client.get(self.keys.engine_firing(firing_id))
        return None if text is None else dict(json.loads(str(text)))

    def save_loop_stop(self, automation_id: str, record: dict[str, Any],
                       ttl_seconds: int) -> None:
        """Keep the last loop stop of an automation (JSON)."""
        self.client.set(self.keys.automation_loop_stop(automation_id), json.dumps(record),
                        ex=ttl_seconds)

    def loop_stop(self, automation_id: str) -> dict[str, Any] | None:
        """The last loop stop of an automation, or None."""
        text = self.client.get(self.keys.automation_loop_stop(automation_id))
        return None if text is None else dict(json.loads(str(text)))
