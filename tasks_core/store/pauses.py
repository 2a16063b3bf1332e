"""Open pauses of flow runs, the input a resume hands over, and the pauses already resumed.

Keys (`tasks_core.store.keys`): ``p:pause:<run id>`` (the open pause, JSON), ``p:pauses``
(open pauses by deadline, what beat's sweeper reads), ``p:pause:<run id>:input`` (the input
list a paused process blocks on) and ``p:pause:<run id>:resumed`` (key -> input of resumed
pauses, so a suspended flow's rerun passes them); ``p:pause:<run id>:taken`` (the last
take's token and pause, for five minutes: a take sent again is known).

Invariants: a pause is taken once (pause_take.lua): a resume, the paused process's own
timeout and the sweeper race for it and exactly one wins; an input is pushed only by the
resume that took the pause. The pause and its index entry are written together.
"""

from __future__ import annotations

import secrets
from typing import Any

import redis

from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["TAKEN_KEPT_S", "PauseStore"]

TAKEN_KEPT_S = 300
"""Seconds a take's token is kept (``p:pause:<run id>:taken``): longer than redis-py's
retries of one command."""


class PauseStore(KeyedStore):
    """Open, take, wait for and look up pauses of flow runs.

    Args:
        client: the ledger's Redis client.
        keys: the key builder of the stack's prefix.
        ttl_seconds: how long a resume's input is kept (``run_ttl_seconds``); resumed
            pauses are kept until the run ends, then as long as the run (pause_take.lua).
    """

    def __init__(self, client: redis.Redis, keys: Keys, *, ttl_seconds: int) -> None:
        super().__init__(client, keys)
        self.ttl_seconds = ttl_seconds
        self._take = self.script("pause_take.lua")

    def open(self, run_id: str, pause_json: str, deadline: float) -> None:
        """Record the open pause of `run_id` (JSON) due to expire at `deadline` (epoch s)."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.pause(run_id), pause_json)
            pipe.zadd(self.keys.pauses, {run_id: deadline})
            pipe.delete(self.keys.pause_input(run_id))  # no stale input of an older pause
            pipe.execute()

    def get(self, run_id: str) -> str | None:
        """The open pause of `run_id` (JSON), or None."""
        value: Any = self.client.get(self.keys.pause(run_id))
        return None if value is None else str(value)

    def take(self, run_id: str, *, input_json: str = "", push: bool = False,
             key: str = "") -> str | None:
        """Take the open pause (atomically); with `push`, hand `input_json` to the paused
        process; with `key`, remember the input as that pause's. The pause's JSON, or None
        when it was not open (resumed, expired or never paused). The call has a token of
        its own: sent again by redis-py after its reply was lost, it is still this call's
        take (pause_take.lua)."""
        found: Any = self._take(
            keys=[self.keys.pause(run_id), self.keys.pauses, self.keys.pause_input(run_id),
                  self.keys.pause_resumed(run_id), self.keys.run(run_id),
                  self.keys.pause_taken(run_id)],
            args=[run_id, input_json, "1" if push else "0", key, self.ttl_seconds,
                  secrets.token_hex(8), TAKEN_KEPT_S])
        return None if found is None else str(found)

    def wait_input(self, run_id: str, timeout: float) -> str | None:
        """Block up to `timeout` seconds (> 0) for the input a resume pushes; None: none came."""
        found: Any = self.client.blpop([self.keys.pause_input(run_id)], timeout=timeout)
        return None if found is None else str(found[1])

    def resumed(self, run_id: str, key: str) -> str | None:
        """The input JSON the pause `key` of `run_id` was resumed with, or None."""
        value: Any = self.client.hget(self.keys.pause_resumed(run_id), key)
        return None if value is None else str(value)

    def expired(self, now: float, limit: int = 100) -> list[str]:
        """Up to `limit` run ids whose open pause's deadline is at or before `now`."""
        ids: Any = self.client.zrangebyscore(self.keys.pauses, "-inf", now, 0, limit)
        return [str(i) for i in ids]
