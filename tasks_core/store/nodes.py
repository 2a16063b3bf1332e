"""Worker nodes in Redis: leases on Celery node names, and the workers' descriptions.

A worker holds `p:node:<name>` (its token, with a TTL) while it runs; its heartbeat renews
the lease and rewrites its description (`p:nodes:info`) and last-seen time (`p:nodes`).
Taking, renewing and taking over a lease are one script (node_lease.lua), so two workers
never hold one name; a stopping worker releases it (node_release.lua). A worker that died
without releasing stays listed as silent until forgotten (`FORGET_AFTER` timeouts).
See `tasks_core.nodes` for how names are picked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from tasks_core.nodes import NodeInfo
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["FORGET_AFTER", "NodeLeases", "NodeStatus"]

FORGET_AFTER = 10
"""Workers silent for this many heartbeat timeouts are dropped from the list."""


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """A worker as `tasks-core worker ls` lists it."""

    info: NodeInfo
    last_seen: float
    """Epoch seconds of its last heartbeat."""
    alive: bool
    """Whether its lease is held (it has beaten within the heartbeat timeout)."""


class NodeLeases(KeyedStore):
    """Take, renew and release node-name leases; list the workers that hold them."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._lease = self.script("node_lease.lua")
        self._release = self.script("node_release.lua")

    def _keys(self, node: str) -> list[str]:
        return [self.keys.node_lease(node), self.keys.nodes, self.keys.nodes_info]

    def hold(self, info: NodeInfo, token: str, ttl_ms: int, now: float, *,
             take_over: str = "") -> str:
        """Take the lease on `info.node` when free (or held by `take_over`), or renew it
        when `token` holds it, writing `info`; the token holding it afterwards (`token`
        when this holder has it, else the other holder's: nothing was written)."""
        held = self._lease(keys=self._keys(info.node),
                           args=[token, ttl_ms, info.node, info.model_dump_json(), now,
                                 take_over])
        return held.decode() if isinstance(held, bytes) else str(held)

    def release(self, node: str, token: str) -> bool:
        """Give the name back (only when `token` holds it); whether it was released."""
        return bool(self._release(keys=self._keys(node), args=[token, node]))

    def holder(self, node: str) -> str | None:
        """The token holding the lease on `node`, None when it is free."""
        value = self.client.get(self.keys.node_lease(node))
        return None if value is None else str(value)

    def list_nodes(self, now: float, timeout: float) -> list[NodeStatus]:
        """Workers seen within `FORGET_AFTER` x `timeout` seconds of `now`, oldest started
        first; longer silent ones are forgotten here."""
        self._forget(now - timeout * FORGET_AFTER)
        raw: Any = self.client.zrange(self.keys.nodes, 0, -1, withscores=True)
        seen = [(str(node), float(score)) for node, score in raw]
        if not seen:
            return []
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hmget(self.keys.nodes_info, [node for node, _ in seen])
            for node, _ in seen:
                pipe.exists(self.keys.node_lease(node))
            infos, *held = pipe.execute()
        found = [NodeStatus(NodeInfo.model_validate_json(text), score, bool(alive))
                 for (_, score), text, alive in zip(seen, infos, held, strict=True)
                 if text is not None]
        return sorted(found, key=lambda status: (status.info.started, status.info.node))

    def _forget(self, before: float) -> None:
        old = [str(node) for node in self.client.zrangebyscore(self.keys.nodes, "-inf", before)]
        if old:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.zrem(self.keys.nodes, *old)
                pipe.hdel(self.keys.nodes_info, *old)
                pipe.execute()
