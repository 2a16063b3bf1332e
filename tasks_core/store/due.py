"""The due set: runs waiting for their time (countdowns, schedules, retry delays).

`p:due` scores each waiting run by its due time; beat reads a page of due runs with their
raw scores, sends them, then removes only the entries whose score is unchanged
(remove_unchanged.lua), so a run that failed again meanwhile keeps its new retry time.
Writers publish on `p:due:wake` when they add a time earlier than any other (create.lua,
transition.lua) or a deployment's schedules change; beat waits on it (`subscribe`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
import redis.client

from tasks_core.errors import StoreUnavailable
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["DueSet", "WakeSubscription"]

_LOST = (redis.ConnectionError, redis.TimeoutError)


class WakeSubscription:
    """A subscription to the wake channel; lost connections raise StoreUnavailable."""

    def __init__(self, pubsub: redis.client.PubSub, channel: str) -> None:
        self._pubsub = pubsub
        try:
            pubsub.subscribe(channel)
        except _LOST as exc:
            raise StoreUnavailable(f"cannot subscribe to {channel}: {exc}") from exc

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a wake message; whether one came (the others
        that came meanwhile are read too: one wake per burst)."""
        try:
            if self._pubsub.get_message(timeout=timeout) is None:
                return False
            while self._pubsub.get_message(timeout=0) is not None:
                pass
            return True
        except _LOST as exc:
            raise StoreUnavailable(f"lost the wake channel: {exc}") from exc

    def close(self) -> None:
        """Unsubscribe and release the connection."""
        self._pubsub.close()


class DueSet(KeyedStore):
    """Read, clear and wait on the due set."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._remove_unchanged = self.script("remove_unchanged.lua")

    def read(self, now: float, limit: int) -> list[tuple[str, str]]:
        """Runs due by `now`, earliest first: (run id, raw score) pairs, at most `limit`."""
        return self.read_until(self.keys.due, now, limit)

    def remove_unchanged(self, read: Sequence[tuple[str, str]]) -> None:
        """Remove the entries `read` returned, except those whose due time changed since."""
        if read:
            self._remove_unchanged(keys=[self.keys.due],
                                   args=[x for pair in read for x in pair])

    def unsent(self, run_ids: Sequence[str]) -> list[str]:
        """Those of `run_ids` still waiting in the due set (their message not sent yet)."""
        if not run_ids:
            return []
        scores = self.client.zmscore(self.keys.due, list(run_ids))
        return [run_id for run_id, score in zip(run_ids, scores, strict=True)
                if score is not None]

    def remove(self, run_ids: Sequence[str]) -> None:
        """Take runs out of the due set (they will not be sent)."""
        if run_ids:
            self.client.zrem(self.keys.due, *run_ids)

    def heads(self) -> list[float]:
        """The earliest due time and the earliest schedule look (epoch seconds), those that
        exist, in one round trip: beat sleeps until the first of them."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zrange(self.keys.due, 0, 0, withscores=True)
            pipe.zrange(self.keys.schedules, 0, 0, withscores=True)
            replies: Any = pipe.execute()
        return [float(head[0][1]) for head in replies if head]

    def subscribe(self) -> WakeSubscription:
        """Subscribe to the wake channel (close it when done)."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        return WakeSubscription(pubsub, self.keys.due_wake)
