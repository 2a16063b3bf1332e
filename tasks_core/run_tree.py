"""The run tree of a flow run: gathered from the store, built from records (pure), as JSON.

A run's children are the runs whose parent is it, by the same rule the children index
follows (`parent_task_run_id` when set, else `parent_flow_run_id`). A nested flow is
recorded as a placeholder task run (task key ``subflow:<name>``) in its parent, with the
child flow run beneath it; the tree shows the child flow run in the placeholder's place
and remembers the placeholder's id.

Used by the CLI (`tasks-core flow-run inspect`, which draws it with rich in
`tasks_core.cli.run_tree`) and the dashboard's run timeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tasks_core.records import RunRecord
from tasks_core.run_queries import PAGE
from tasks_core.states import is_terminal

if TYPE_CHECKING:
    from tasks_core.store.run_indexes import RunIndexes
    from tasks_core.store.runs import RunStore

__all__ = [
    "SUBFLOW_PREFIX",
    "TREE_LIMIT",
    "RunNode",
    "build_tree",
    "gather_tree",
    "run_duration",
    "tree_json",
    "walk",
]

SUBFLOW_PREFIX = "subflow:"
"""Task key prefix of the placeholder task run a nested flow leaves in its parent."""

TREE_LIMIT = 5_000
"""Most runs `gather_tree` reads under one flow run."""


@dataclass(slots=True)
class RunNode:
    """One run of the tree; `placeholder` is the task run a nested flow stands in for."""

    record: RunRecord
    children: list[RunNode] = field(default_factory=list)
    placeholder: RunRecord | None = None


def run_duration(record: RunRecord, now: datetime) -> tuple[float | None, bool]:
    """Seconds the run has run, and whether it is still running (measured up to `now`)."""
    if record.start_time is None:
        return None, False
    if record.end_time is not None:
        return (record.end_time - record.start_time).total_seconds(), False
    if is_terminal(record.state):
        return None, False
    return (now - record.start_time).total_seconds(), True


def _parent_of(record: RunRecord) -> str | None:
    return record.parent_task_run_id or record.parent_flow_run_id


def _order(record: RunRecord) -> tuple[datetime, datetime, str]:
    return (record.start_time or record.created, record.created, record.id)


def build_tree(root: RunRecord, runs: Iterable[RunRecord]) -> RunNode:
    """The tree under `root` from any set of records (others are ignored).

    Siblings are ordered by start time (creation time for runs not started). A
    placeholder with exactly one child flow run is replaced by that flow run.
    """
    by_parent: dict[str, list[RunRecord]] = defaultdict(list)
    for record in runs:
        parent = _parent_of(record)
        if parent is not None and record.id != root.id:
            by_parent[parent].append(record)
    seen = {root.id}

    def grow(record: RunRecord) -> RunNode:
        node = RunNode(record)
        for child in sorted(by_parent.get(record.id, ()), key=_order):
            if child.id not in seen:  # a corrupt index must not loop forever
                seen.add(child.id)
                node.children.append(_collapse(grow(child)))
        return node

    return grow(root)


def _collapse(node: RunNode) -> RunNode:
    record = node.record
    if record.kind != "task" or not record.task_key.startswith(SUBFLOW_PREFIX):
        return node
    if len(node.children) != 1 or node.children[0].record.kind != "flow":
        return node
    flow = node.children[0]
    return RunNode(flow.record, flow.children, placeholder=record)


def walk(node: RunNode, depth: int = 0) -> Iterator[tuple[int, RunNode]]:
    """Every node under `node` (itself first) with its depth, in tree order."""
    yield depth, node
    for child in node.children:
        yield from walk(child, depth + 1)


def gather_tree(store: RunStore, indexes: RunIndexes, root: RunRecord,
                *, limit: int = TREE_LIMIT) -> tuple[RunNode, bool]:
    """The run tree under `root` read from the store, and whether it was cut at `limit`
    runs (below the root).

    One round trip for the children of a whole level, one per page of records.
    """
    records: list[RunRecord] = []
    seen = {root.id}
    frontier = [root.id]
    capped = False
    while frontier:
        fresh = []
        for ids in indexes.children_of(frontier):
            for run_id in ids:
                if run_id not in seen:
                    seen.add(run_id)
                    fresh.append(run_id)
        if len(records) + len(fresh) > limit:
            fresh, capped = fresh[:limit - len(records)], True
        level = [r for start in range(0, len(fresh), PAGE)
                 for r in store.get_many(fresh[start:start + PAGE])]
        records.extend(level)
        frontier = [] if capped else [r.id for r in level]
    return build_tree(root, records), capped


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def tree_json(node: RunNode, now: datetime) -> dict[str, Any]:
    """The tree as nested JSON-ready dicts (durations of unfinished runs measured to `now`).

    Each node: ``id``, ``name``, ``kind``, ``task_key``, ``state``, ``state_type``,
    ``state_message``, ``start_time`` / ``end_time`` (ISO 8601 or None),
    ``duration_seconds``, ``running``, ``placeholder_id`` (a nested flow's task run in its
    parent), ``error`` (type and message) and ``children``.
    """
    record = node.record
    seconds, running = run_duration(record, now)
    return {
        "id": record.id,
        "name": record.name,
        "kind": record.kind,
        "task_key": record.task_key or None,
        "state": record.state.value,
        "state_type": record.state_type.value,
        "state_message": record.state_message,
        "start_time": _iso(record.start_time),
        "end_time": _iso(record.end_time),
        "duration_seconds": seconds,
        "running": running,
        "placeholder_id": node.placeholder.id if node.placeholder else None,
        "error": record.error.model_dump(exclude={"traceback"}) if record.error else None,
        "children": [tree_json(child, now) for child in node.children],
    }
