"""Finding the newest runs that match filters, by scanning the indexes in growing windows
(used by the CLI listings and the HTTP API)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from fnmatch import fnmatchcase

from tasks_core.records import RunRecord
from tasks_core.states import StateName
from tasks_core.store.runs import RunStore

__all__ = ["PAGE", "SCAN_LIMIT", "find_runs", "name_matcher"]

SCAN_LIMIT = 5_000
"""The most run ids a filtered listing examines."""

PAGE = 250
"""Records read per round trip."""


def find_runs(
    store: RunStore, *, kind: str = "task", state: StateName | None, name: str | None,
    limit: int, since: datetime | None = None, where: Callable[[RunRecord], bool] | None = None,
) -> tuple[list[RunRecord], bool]:
    """The newest runs matching the filters, and whether the scan hit SCAN_LIMIT.

    Ids come newest first in growing windows (records that expired but are still indexed
    are skipped). Without a state filter they are ordered by creation, so the scan stops at
    the first run created before `since`; a state index is ordered by time of entry into
    the state, which is never before creation. `where` is one more test a record must pass.
    """
    matches = name_matcher(name)
    filtered = name is not None or since is not None or where is not None
    found: list[RunRecord] = []
    seen: set[str] = set()
    window = max(limit, PAGE) if filtered else limit
    while True:
        ids = store.list_ids(kind, state=state, limit=window)
        fresh = [run_id for run_id in ids if run_id not in seen]
        seen.update(fresh)
        for start in range(0, len(fresh), PAGE):
            for record in store.get_many(fresh[start:start + PAGE]):
                if since is not None and record.created < since:
                    if state is None:
                        return found, False
                    continue
                if matches(record.name) and (where is None or where(record)):
                    found.append(record)
                    if len(found) == limit:
                        return found, False
        if len(ids) < window:
            return found, False
        if window >= SCAN_LIMIT:
            return found, True
        window = min(window * 4, SCAN_LIMIT)


def name_matcher(pattern: str | None) -> Callable[[str], bool]:
    """A name test: everything (None), a glob (`etl*`, `?`, `[ab]`) or an exact name."""
    if pattern is None:
        return lambda _: True
    if any(ch in pattern for ch in "*?["):
        return lambda candidate: fnmatchcase(candidate, pattern)
    return lambda candidate: candidate == pattern
