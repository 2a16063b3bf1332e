"""Cancel requests: the channel that tells the process running a run to stop it.

A request is fire-and-forget (pub/sub): the ledger already says Cancelling, so a process
that misses it still ends the run Cancelled when its attempt ends (Cancelling only leads to
Cancelled), and the sweeper ends it when that process is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import redis

from tasks_core.errors import StoreUnavailable
from tasks_core.store.base import KeyedStore

__all__ = ["CancelRequests"]

_LOST = (redis.ConnectionError, redis.TimeoutError)


class CancelRequests(KeyedStore):
    """Publish and receive the ids of runs asked to stop."""

    def announce(self, run_ids: Iterable[str]) -> None:
        """Tell every listening process that these runs must stop (one round trip)."""
        ids = list(run_ids)
        if not ids:
            return
        with self.client.pipeline(transaction=False) as pipe:
            for run_id in ids:
                pipe.publish(self.keys.cancel_channel, run_id)
            pipe.execute()

    def listen(self, idle: float = 1.0) -> Iterator[str]:
        """Run ids as they are announced, forever, and ``""`` after each `idle` seconds
        with none (so the caller can stop); StoreUnavailable when the connection is lost
        (subscribe again to go on)."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(self.keys.cancel_channel)
            while True:
                message = pubsub.get_message(timeout=idle)
                if message is None:
                    yield ""
                    continue
                data = message.get("data")
                yield data.decode() if isinstance(data, bytes) else str(data)
        except _LOST as exc:
            raise StoreUnavailable(f"lost the cancel channel: {exc}") from exc
        finally:
            pubsub.close()
