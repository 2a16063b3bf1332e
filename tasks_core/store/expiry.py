"""Runs sent with Celery's ``expires``: the index beat's sweeper reads.

`p:expiring` (a ZSET) scores each such run by its expiry time (epoch seconds). The worker's
claim refuses an expired run by itself (transition.lua reads the record's ``expires``);
this index lets beat end the runs nobody claims (queued behind others, or on a queue no
worker serves) at their time. An entry is removed once its run is handled; a lost entry
only means the claim, not the sweeper, ends that run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tasks_core.store.base import KeyedStore

__all__ = ["ExpiryIndex"]


class ExpiryIndex(KeyedStore):
    """`p:expiring`: run id -> expiry epoch seconds."""

    def add(self, run_id: str, at: datetime) -> None:
        """Remember that `run_id` expires at `at`."""
        self.client.zadd(self.keys.expiring, {run_id: at.timestamp()})

    def due(self, now: datetime, limit: int = 1000) -> list[str]:
        """Up to `limit` run ids whose expiry time is at or before `now`, earliest first."""
        ids = self.client.zrangebyscore(self.keys.expiring, "-inf", now.timestamp(),
                                        start=0, num=limit)
        return [str(i) for i in ids]

    def remove(self, run_ids: Sequence[str]) -> None:
        """Forget these runs (handled)."""
        if run_ids:
            self.client.zrem(self.keys.expiring, *run_ids)
