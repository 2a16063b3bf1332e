"""The schedule index: which deployments beat's scheduler must look at, and when.

`p:schedules` holds each active scheduled deployment, scored by when the scheduler must
next create runs for it; `p:schedule-mark:<dep id>` the latest scheduled time it created
runs up to; `p:deployment:<id>:scheduled` the runs it created and has not sent yet. A
scheduler pass reads due entries with their raw scores and sets each one's next look only
if the entry is unchanged since (set_looks.lua), so a deploy or pause meanwhile wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["Look", "ScheduleIndex"]


@dataclass(frozen=True, slots=True)
class Look:
    """What a scheduler pass decided for one deployment it read from the index.

    Attributes:
        deployment_id: the deployment.
        score: its index score as read (raw text): the entry changes only if still this.
        next_look: when to look at it again (epoch seconds); None removes it from the index.
        mark: its new schedule mark (ISO 8601); None keeps the mark.
    """

    deployment_id: str
    score: str
    next_look: float | None
    mark: str | None = None


class ScheduleIndex(KeyedStore):
    """Read and update beat's schedule index, schedule marks and scheduled-run indexes."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._set_looks = self.script("set_looks.lua")

    def due(self, now: float, limit: int) -> list[tuple[str, str]]:
        """Deployments due for a look by `now`, earliest first: (id, raw score) pairs."""
        return self.read_until(self.keys.schedules, now, limit)

    def marks(self, deployment_ids: Sequence[str]) -> list[str | None]:
        """The schedule mark of each deployment (None: no runs created yet), one round trip."""
        values = self.client.mget([self.keys.schedule_mark(i) for i in deployment_ids])
        return [None if v is None else str(v) for v in values]

    def set_looks(self, looks: Sequence[Look], *, sent_before: float) -> None:
        """Apply a pass's looks (each only if its entry is unchanged since the read), and
        forget the scheduled runs due before `sent_before` (sent: no longer cancellable)."""
        if not looks:
            return
        keys = [self.keys.schedules, *(self.keys.schedule_mark(x.deployment_id) for x in looks)]
        args: list[str | float] = []
        for look in looks:
            args += [look.deployment_id, look.score,
                     "" if look.next_look is None else look.next_look, look.mark or ""]
        with self.client.pipeline(transaction=False) as pipe:
            self._set_looks(keys=keys, args=args, client=pipe)
            for look in looks:
                pipe.zremrangebyscore(self.keys.deployment_scheduled(look.deployment_id),
                                      "-inf", sent_before)
            pipe.execute()

    def reset(self, deployment_id: str, look: float | None) -> None:
        """A deployment's schedules changed: forget its mark, and put it in the index to be
        looked at `look` (waking beat), or take it out (None), atomically."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.schedule_mark(deployment_id))
            if look is not None:
                pipe.zadd(self.keys.schedules, {deployment_id: look})
                pipe.publish(self.keys.due_wake, "schedules")
            else:
                pipe.zrem(self.keys.schedules, deployment_id)
            pipe.execute()

    def queued_runs(self, deployment_id: str) -> list[str]:
        """The runs the scheduler created for the deployment and may not have sent yet."""
        return [str(i) for i in
                self.client.zrange(self.keys.deployment_scheduled(deployment_id), 0, -1)]

    def all_ids(self) -> list[str]:
        """Every deployment in the schedule index (active and scheduled)."""
        return [str(i) for i in self.client.zrange(self.keys.schedules, 0, -1)]

    def swap_clock(self, now: float) -> float | None:
        """Record `now` (epoch seconds) as the wall time of this scheduler pass; the one
        the previous pass recorded (None for the first), atomically."""
        with self.client.pipeline(transaction=True) as pipe:  # SET ... GET needs Redis 6.2
            pipe.get(self.keys.beat_clock)
            pipe.set(self.keys.beat_clock, repr(now))
            previous, _ = pipe.execute()
        return None if previous is None else float(previous)

    def overdue(self, deployment_ids: Sequence[str],
                before: float) -> dict[str, list[tuple[str, float]]]:
        """The runs the scheduler created for each deployment, not sent yet, due before
        `before` (epoch seconds): deployment id -> [(run id, due epoch seconds)], oldest
        first; one round trip."""
        ids = list(dict.fromkeys(deployment_ids))
        with self.client.pipeline(transaction=False) as pipe:
            for deployment_id in ids:
                pipe.zrangebyscore(self.keys.deployment_scheduled(deployment_id), "-inf",
                                   f"({before}", withscores=True)
            replies: list[list[tuple[str, float]]] = pipe.execute()
        return {d: [(str(m), float(sc)) for m, sc in reply]
                for d, reply in zip(ids, replies, strict=True)}

    def forget_runs(self, deployment_id: str, run_ids: Sequence[str]) -> None:
        """Take these runs out of the deployment's scheduled-run index (cancelled)."""
        if run_ids:
            self.client.zrem(self.keys.deployment_scheduled(deployment_id), *run_ids)

    def forget_queued(self, deployment_id: str) -> None:
        """Forget the deployment's scheduled runs (they were cancelled or sent)."""
        self.client.delete(self.keys.deployment_scheduled(deployment_id))
