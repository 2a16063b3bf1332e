"""Pruning of the run indexes: entries of runs whose records expired leave them.

A finished run's record, history, logs and children index expire by their TTL
(set when it ended: `tasks_core.retention`). The indexes that hold many runs each
(`p:<kind>-runs`, `p:<kind>-runs:state:<S>`) cannot expire, so beat's sweeper prunes them
here on every pass, in bounded batches (prune_runs.lua, `RunIndexes.prune_batch`):

- a terminal state index by entry time: entries older than that state's TTL are exactly
  the expired runs;
- the by-creation index by checking each candidate created before the shortest TTL (a
  long-running or waiting run stays, and does not stall the pass: a cursor moves past it).

A run that is not terminal has no TTL and is never pruned; neither are schedule marks or a
deployment's scheduled runs (other keys, never touched here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tasks_core.process_runtime import Runtime
from tasks_core.retention import runs_cutoff, state_cutoffs

__all__ = ["BATCH", "ROUNDS", "PruneReport", "prune"]

BATCH = 1000
"""Most entries one call removes by time from each state index, and most it checks."""

ROUNDS = 10
"""Most calls per kind in one pass (so one pass removes at most ROUNDS * BATCH per index)."""


@dataclass
class PruneReport:
    """What the pruning of one kind did in one pass."""

    by_time: int = 0
    checked: int = 0
    gone: int = 0
    rounds: int = 0

    @property
    def removed(self) -> int:
        """Index entries removed (state index entries by time, plus runs found gone)."""
        return self.by_time + self.gone


def prune(rt: Runtime, now: datetime, kind: str, *, batch: int = BATCH,
          rounds: int = ROUNDS) -> PruneReport:
    """Prune the indexes of runs of `kind` (``task`` | ``flow``) as of `now`: up to `rounds`
    batches, fewer when one finds nothing more to prune."""
    stamp = now.timestamp()
    cutoffs = {str(name): at for name, at in state_cutoffs(rt.settings, stamp).items()}
    created = runs_cutoff(rt.settings, stamp)
    report = PruneReport()
    for _ in range(rounds):
        done = rt.indexes.prune_batch(kind, runs_cutoff=created, state_cutoffs=cutoffs,
                                      batch=batch)
        report.rounds += 1
        report.by_time += done.by_time
        report.checked += done.checked
        report.gone += done.gone
        if not done.more:
            break
    return report
