"""The indexes around run records, read and trimmed many runs at a time.

RunStore writes a run's record together with its indexes (create.lua, transition.lua);
this reads the children index a whole tree level at a time (the CLI's run trees), finds the
run ids that start with a prefix (the CLI's short ids) and prunes index entries whose records
expired (the sweeper: `prune_batch`, prune_runs.lua). Each call is one round trip, except
`ids_starting`, which pages through one by-time index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from redis.commands.core import Script

from tasks_core.states import TERMINAL, StateName
from tasks_core.store.base import KeyedStore, glob_escape

__all__ = ["PruneBatch", "RunIndexes"]


@dataclass(frozen=True)
class PruneBatch:
    """What one prune_runs.lua call did.

    Attributes:
        by_time: entries removed from terminal state indexes by their entry time.
        checked: entries of the by-creation index whose record was looked up.
        gone: of those, the ones whose record had expired (removed from every index).
        more: a limit was reached: another call would find more to prune now.
    """

    by_time: int
    checked: int
    gone: int
    more: bool


class RunIndexes(KeyedStore):
    """Batch reads of `p:run:<id>:children`, id prefix look-ups in the by-time indexes, and
    trimming of the by-time and state indexes."""

    def ids_starting(self, kind: str, prefix: str, limit: int = 11) -> list[str]:
        """Up to `limit` ids of runs of `kind` (``task`` | ``flow``) that start with `prefix`.

        ZSCAN with MATCH over `p:<kind>-runs` (every run of that kind under this key prefix,
        never the whole keyspace), pages of 1000; it stops as soon as `limit` ids are found,
        so an ambiguous prefix costs little and a unique one reads the index once. Glob
        characters in `prefix` match literally; an empty prefix matches nothing. Ids whose
        record expired but are still indexed can be among them (the sweeper trims those).
        """
        if not prefix or limit < 1:
            return []
        found: list[str] = []
        pattern = glob_escape(prefix) + "*"
        for member, _ in self.client.zscan_iter(self.keys.runs(kind), match=pattern,
                                                count=1000):
            found.append(str(member))
            if len(found) >= limit:
                break
        return found

    def state_counts(self, kind: str, states: Sequence[str]) -> dict[str, int]:
        """How many runs of `kind` each state index holds now (one round trip). Indexes
        may still hold runs whose records expired, so counts are upper bounds."""
        with self.client.pipeline(transaction=False) as pipe:
            for state in states:
                pipe.zcard(self.keys.state_index(kind, state))
            replies = pipe.execute()
        return {state: int(count) for state, count in zip(states, replies, strict=True)}

    def child_counts(self, run_ids: Sequence[str]) -> list[int]:
        """How many runs were started directly inside each run (tasks and nested flows)."""
        with self.client.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.zcard(self.keys.children(run_id))
            return [int(count) for count in pipe.execute()]

    def children_of(self, run_ids: Sequence[str]) -> list[list[str]]:
        """The ids of the runs started inside each run, oldest first."""
        with self.client.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.zrange(self.keys.children(run_id), 0, -1)
            return [[str(v) for v in ids] for ids in pipe.execute()]

    def drop_expired(self, kind: str, run_ids: Sequence[str]) -> list[str]:
        """Of these runs of `kind`, the ones whose record expired; they are removed from the
        by-time index and from every state index."""
        if not run_ids:
            return []
        with self.client.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.exists(self.keys.run(run_id))
            exists = pipe.execute()
        gone = [run_id for run_id, flag in zip(run_ids, exists, strict=True) if not flag]
        if gone:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.zrem(self.keys.runs(kind), *gone)
                for state in StateName:
                    pipe.zrem(self.keys.state_index(kind, state), *gone)
                pipe.execute()
        return gone

    @cached_property
    def _prune(self) -> Script:
        return self.script("prune_runs.lua")

    def prune_batch(self, kind: str, *, runs_cutoff: float,
                    state_cutoffs: Mapping[str, float], batch: int) -> PruneBatch:
        """One bounded, atomic pruning batch over the indexes of runs of `kind`
        (prune_runs.lua, one round trip).

        Args:
            kind: ``task`` | ``flow``.
            runs_cutoff: creation time (epoch seconds) at or before which an entry of
                `p:<kind>-runs` is checked for its record (`tasks_core.retention.runs_cutoff`).
            state_cutoffs: terminal state name -> entry time (epoch seconds) at or before
                which its state index entries are expired (`retention.state_cutoffs`);
                states not named are not pruned by time.
            batch: most entries removed by time per state index, and most entries of
                `p:<kind>-runs` checked (> 0).

        Raises:
            ValueError: `batch` < 1, or `state_cutoffs` names a state that is not terminal
                (its runs never expire) or no state at all.
        """
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        wrong = sorted(set(state_cutoffs) - TERMINAL)
        if wrong:
            raise ValueError(f"state_cutoffs may name terminal states only, not {wrong}")
        k = self.keys
        states = sorted(state_cutoffs)
        run_prefix = k.run("")
        keys = [k.runs(kind), k.prune_cursor(kind), *(k.state_index(kind, s) for s in states)]
        args: list[str | int | float] = [
            batch, repr(float(runs_cutoff)), run_prefix, k.children("")[len(run_prefix):],
            *(repr(float(state_cutoffs[s])) for s in states)]
        by_time, checked, gone, more = (int(v) for v in self._prune(keys=keys, args=args))
        return PruneBatch(by_time=by_time, checked=checked, gone=gone, more=bool(more))
