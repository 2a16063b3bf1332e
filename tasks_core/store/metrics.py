"""What `/metrics` reads from Redis at scrape time, each family in one or two round trips.

    runs by kind, state, work pool   ZCARD of p:<kind>-runs:state:<S>: the count per kind and
                                     state is exact (runs whose record expired count until
                                     the sweeper trims the index); the split by pool counts
                                     the ``queue`` of the newest `SAMPLE` runs of a state in
                                     Redis (metrics_pools.lua): exact when the state holds at
                                     most that many, else the sample's shares of the exact
                                     total (approximate)
    queue depth per queue            LLEN of each broker list (exact) of the queues known:
                                     pools with records, the default pool, workers' queues
    run durations                    p:metrics:durations, counted by transition.lua when a run
                                     that started ends (metrics_duration.lua): exact
    events ingested                  XINFO STREAM ``entries-added`` of p:events: every event
                                     ever appended (run states and emitted), exact, not
                                     lowered by retention trimming
    firings, action failures         p:metrics:firings, p:metrics:action-failures, counted by
                                     the trigger engine (`EngineStore.count_firing`): exact
    trigger engine lag               XINFO GROUPS of p:events for p:engine:group: ``lag``
                                     (entries not yet delivered to it) and ``pending``
                                     (delivered, not acked)

Nothing here writes: a scrape costs reads only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from tasks_core.states import StateName
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["DURATION_BUCKETS", "KINDS", "NO_POOL", "SAMPLE", "UNKNOWN_POOL", "AutomationCounts",
           "DurationSeries", "EngineLag", "MetricsStore", "QueueDepth", "RunCount",
           "apportion"]

DURATION_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                                       5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
"""Upper bounds (seconds) of the run duration histogram; +Inf follows. Changing them makes
the counts already stored meaningless: clear p:metrics:durations then."""

KINDS = ("flow", "task")
SAMPLE = 1000
"""The most runs of one state whose pool is read per scrape."""
NO_POOL = "(none)"
"""The pool label of runs without a queue (called in-process); no pool name has '('."""
UNKNOWN_POOL = "(expired)"
"""The pool label of indexed runs whose record expired (the sweeper trims them)."""


@dataclass(frozen=True, slots=True)
class RunCount:
    """Runs of `kind` now in `state` on `pool`; `exact` is False when apportioned."""

    kind: str
    state: str
    pool: str
    count: int
    exact: bool


@dataclass(frozen=True, slots=True)
class DurationSeries:
    """One histogram series: runs of `kind` on `pool` that ended in `state`.

    `buckets` holds the cumulative counts at each bound of `DURATION_BUCKETS` and then at
    +Inf (== `count`); `total_seconds` is the sum of their durations.
    """

    kind: str
    pool: str
    state: str
    buckets: tuple[int, ...]
    total_seconds: float
    count: int


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """Messages waiting on `queue` (of work pool `pool`)."""

    pool: str
    queue: str
    depth: int


@dataclass(frozen=True, slots=True)
class EngineLag:
    """The trigger engine's consumer group: `lag` entries not delivered to it yet (None
    when Redis cannot tell, after a trim past its position), `pending` delivered, unacked."""

    lag: int | None
    pending: int


@dataclass(frozen=True, slots=True)
class AutomationCounts:
    """Firings by automation, action failures by (automation, action type); an automation
    is named by its name, or by its id once deleted."""

    firings: dict[str, int]
    failures: dict[tuple[str, str], int]


def apportion(total: int, sample: Mapping[str, int]) -> dict[str, int]:
    """Split `total` by the shares of `sample` (largest remainder: the parts sum to `total`).

    An empty sample gives `total` to `UNKNOWN_POOL`.
    """
    seen = sum(sample.values())
    if total <= 0:
        return {}
    if seen == 0:
        return {UNKNOWN_POOL: total}
    exact = {key: total * n / seen for key, n in sample.items()}
    parts = {key: int(share) for key, share in exact.items()}
    left = total - sum(parts.values())
    for key in sorted(exact, key=lambda k: (parts[k] - exact[k], k))[:left]:
        parts[key] += 1
    return {key: n for key, n in parts.items() if n}


def _pool(queue: str) -> str:
    return queue.split(":", 1)[0] or NO_POOL


class MetricsStore(KeyedStore):
    """Scrape-time reads of the metric families (see the module docstring)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        super().__init__(client, keys)
        self._pools = self.script("metrics_pools.lua")

    def run_counts(self, *, sample: int = SAMPLE) -> list[RunCount]:
        """Runs by kind, state and pool (states with no run are left out); one ZCARD per
        state, then one metrics_pools.lua call per state that has runs, in one round trip
        each."""
        slots = [(kind, state.value) for kind in KINDS for state in StateName]
        with self.client.pipeline(transaction=False) as pipe:
            for kind, state in slots:
                pipe.zcard(self.keys.state_index(kind, state))
            totals = [int(n) for n in pipe.execute()]
        busy = [(slot, total) for slot, total in zip(slots, totals, strict=True) if total]
        with self.client.pipeline(transaction=False) as pipe:
            for (kind, state), _ in busy:
                self._pools(keys=[self.keys.state_index(kind, state)],
                            args=[sample, self.keys.run("")], client=pipe)
            replies: list[Any] = pipe.execute()
        out: list[RunCount] = []
        for ((kind, state), total), reply in zip(busy, replies, strict=True):
            expired, flat = int(reply[0]), reply[1:]
            seen = Counter({str(pool) or NO_POOL: int(n)
                            for pool, n in zip(flat[::2], flat[1::2], strict=True)})
            exact = total <= sample
            if exact and expired:
                seen[UNKNOWN_POOL] = expired
            out += [RunCount(kind, state, pool, n, exact)
                    for pool, n in sorted(apportion(total, seen).items())]
        return out

    def durations(self) -> list[DurationSeries]:
        """Every series of the run duration histogram, cumulative."""
        raw: Any = self.client.hgetall(self.keys.metrics_durations)
        grouped: dict[tuple[str, str, str], dict[str, str]] = {}
        for field, value in raw.items():
            kind, pool, state, part = str(field).split("|", 3)
            grouped.setdefault((kind, pool or NO_POOL, state), {})[part] = str(value)
        out = []
        for (kind, pool, state), parts in sorted(grouped.items()):
            running = 0
            buckets = []
            for index in range(len(DURATION_BUCKETS) + 1):
                running += int(parts.get(str(index), 0))
                buckets.append(running)
            out.append(DurationSeries(kind, pool, state, tuple(buckets),
                                      int(parts.get("us", 0)) / 1e6, running))
        return out

    def queue_depths(self, pools: Iterable[str]) -> list[QueueDepth]:
        """Depth of every queue of `pools`, of pools with records and of queues a worker
        consumes, by queue name."""
        infos: Any = self.client.hvals(self.keys.nodes_info)
        queues = set(pools) | {str(n) for n in self.client.smembers(self.keys.work_pools)}
        for text in infos:
            queues.update(json.loads(text).get("queues", []))
        names = sorted(queues)
        with self.client.pipeline(transaction=False) as pipe:
            for name in names:
                for key in self.keys.broker_queues(name):
                    pipe.llen(key)
            lengths = [int(n) for n in pipe.execute()]
        per = len(self.keys.broker_queues(""))
        return [QueueDepth(_pool(name), name, sum(lengths[i * per:(i + 1) * per]))
                for i, name in enumerate(names)]

    def events_added(self) -> int:
        """Entries ever appended to the event stream (0 before the first)."""
        try:
            info: Any = self.client.xinfo_stream(self.keys.events)
        except redis.ResponseError:  # no such key: nothing ingested yet
            return 0
        return int(info.get("entries-added", info.get("length", 0)))

    def engine_lag(self) -> EngineLag | None:
        """The trigger engine's lag and pending entries; None before its group exists."""
        try:
            groups: Any = self.client.xinfo_groups(self.keys.events)
        except redis.ResponseError:
            return None
        for group in groups:
            if str(group.get("name")) == self.keys.engine_group:
                lag = group.get("lag")
                return EngineLag(None if lag is None else int(lag), int(group["pending"]))
        return None

    def automation_counts(self) -> AutomationCounts:
        """Firings and action failures the trigger engine counted."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.metrics_firings)
            pipe.hgetall(self.keys.metrics_action_failures)
            pipe.hgetall(self.keys.automation_names)
            firings, failures, names = pipe.execute()
        name_of = {str(i): str(n) for n, i in names.items()}
        failed: dict[tuple[str, str], int] = {}
        for field, value in failures.items():
            automation_id, _, action = str(field).partition("|")
            label = (name_of.get(automation_id, automation_id), action)
            failed[label] = failed.get(label, 0) + int(value)
        fired: dict[str, int] = {}
        for automation_id, value in firings.items():
            name = name_of.get(str(automation_id), str(automation_id))
            fired[name] = fired.get(name, 0) + int(value)
        return AutomationCounts(fired, failed)
