"""Idempotency keys: the one run created for a key of a deployment, whoever asks twice.

`claim` is SET NX with a TTL (`tasks_core.retention.idempotency_ttl`: the longer run TTL,
plus the wait for a scheduled run's time): two beats, or two callers of `run_deployment` with the
same key, race for it and exactly one creates the run; the other gets its id.
"""

from __future__ import annotations

from collections.abc import Sequence

from tasks_core.store.base import KeyedStore

__all__ = ["IdempotencyKeys"]


class IdempotencyKeys(KeyedStore):
    """Claim, read and free a deployment's idempotency keys (`p:idem:<dep id>:<key>`)."""

    def get(self, deployment_id: str, key: str) -> str | None:
        """The run created for `key`, or None when there is none (or it expired)."""
        value = self.client.get(self.keys.idempotency(deployment_id, key))
        return None if value is None else str(value)

    def claim(self, deployment_id: str, key: str, run_id: str, ttl_seconds: int) -> str | None:
        """Claim `key` for `run_id` (SET NX, for `ttl_seconds`): None when claimed now, else
        the run that holds it already."""
        name = self.keys.idempotency(deployment_id, key)
        if self.client.set(name, run_id, nx=True, ex=ttl_seconds):
            return None
        return str(self.client.get(name))

    def release(self, deployment_id: str, keys: Sequence[str]) -> None:
        """Free keys (their runs were cancelled): the same keys may create runs again."""
        if keys:
            self.client.delete(*(self.keys.idempotency(deployment_id, k) for k in keys))
