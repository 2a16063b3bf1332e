"""Per-task rate-limit token buckets in Redis, shared by every worker (rate_take.lua).

`p:rate:<task name>` holds one bucket per rate-limited task (capacity 1: at most one start
per 1/rate seconds, as Celery's bucket). A start over the limit reserves the next free slot
(the bucket goes below zero), so waiting starts are spread out and none is starved. A
runtime override (`celery control rate_limit`) is the hash's ``rate`` field; buckets have no
TTL (one small hash per rate-limited task name).
"""

from __future__ import annotations

import secrets

import redis

from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["RateBuckets"]


class RateBuckets(KeyedStore):
    """The shared token buckets of rate-limited tasks."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._take = self.script("rate_take.lua")

    def take(self, task_name: str, rate: float, token: str | None = None) -> float | None:
        """Take the next start of `task_name` limited to `rate` starts per second: seconds
        to wait before it (0: now), None when an override lifted the limit.

        The call carries a token of its own (`token`, else a new one), by which the same
        take sent again after Redis applied it (its reply lost with the connection: redis-py
        sends it again) is answered with the start it reserved instead of reserving
        another."""
        wait = float(self._take(keys=[self.keys.rate_bucket(task_name)],
                                args=[rate, token or secrets.token_hex(6)]))
        return None if wait < 0 else wait

    def set_rate(self, task_name: str, rate: float | None) -> None:
        """Override the rate of `task_name` for every worker (starts per second; 0: no
        limit); None removes the override (the task's own rate again)."""
        key = self.keys.rate_bucket(task_name)
        if rate is None:
            self.client.hdel(key, "rate")
        else:
            self.client.hset(key, "rate", repr(float(rate)))
