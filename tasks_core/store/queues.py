"""Broker queues as Redis lists: send ready messages, and count what waits on a queue.

kombu's Redis transport keeps one list per queue and priority step, under the stack's
broker prefix (`Keys.broker_queue`, ``p:q:<queue>``): a queue's depth counts them all, or a
queue holding only prioritised messages would look empty.
"""

from __future__ import annotations

from collections.abc import Sequence

from tasks_core.store.base import KeyedStore
from tasks_core.store.runs import BrokerPush

__all__ = ["BrokerQueues"]


class BrokerQueues(KeyedStore):
    """Celery queues on the ledger's Redis (the direct broker)."""

    def push(self, messages: Sequence[BrokerPush]) -> None:
        """LPUSH ready messages (`Dispatcher.push_for`) onto their lists, in one round trip."""
        if not messages:
            return
        with self.client.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.lpush(message.key, message.payload)
            pipe.execute()

    def depth(self, queue: str) -> int:
        """Messages waiting on `queue` (a queue name, unprefixed), over its own list and its
        priority lists."""
        with self.client.pipeline(transaction=False) as pipe:
            for name in self.keys.broker_queues(queue):
                pipe.llen(name)
            return sum(int(n) for n in pipe.execute())
