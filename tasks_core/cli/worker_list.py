"""`tasks-core worker ls`: the workers from their heartbeats, as a table or JSON Lines.

Apart from `tasks_core.cli.workers` (the `worker` group and its option checks) so that a
worker, which imports that module at start-up, does not import rich's tables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from tasks_core.cli.failing import expected_errors
from tasks_core.cli.jsonout import print_json_lines
from tasks_core.cli.output import EMPTY, console, format_duration
from tasks_core.cli.tables import Cell, Column, fit_table

if TYPE_CHECKING:
    from tasks_core.store.nodes import NodeStatus

__all__ = ["NODE_COLUMNS", "list_workers", "node_json", "nodes_table"]


def node_json(status: NodeStatus) -> dict[str, Any]:
    """A worker as `worker ls --json` prints it."""
    return {**status.info.model_dump(mode="json"), "alive": status.alive}


def _seen_text(status: NodeStatus, now: float) -> Text:
    ago = f"{format_duration(max(0.0, now - status.last_seen))} ago"
    return Text(ago) if status.alive else Text(f"{ago} (silent)", style="yellow")


NODE_COLUMNS = (
    Column("Node", style="bold", shrink=True), Column("Pools", drop=1, flexible=True),
    Column("Other queues", drop=3, flexible=True), Column("Concurrency", drop=2),
    Column("Active", justify="right"), Column("Last seen"))
"""Columns of `nodes_table`: node, active runs and last seen (its state: alive or silent)
at any width, the others as room allows."""


def nodes_table(statuses: Sequence[NodeStatus], now: float, width: int | None = None) -> Table:
    """Workers as a table that fits `width` cells (default: the console's): node, active
    runs, last seen, then as room allows pools, concurrency, other queues."""
    rows: list[list[Cell]] = []
    for status in statuses:
        info = status.info
        extra = [q for q in info.queues if q.split(":", 1)[0] not in info.pools]
        size = EMPTY if info.concurrency is None else str(info.concurrency)
        if info.autoscale:
            size = f"{info.autoscale[1]}-{info.autoscale[0]} (autoscale)"
        rows.append([Text(info.node), Text(", ".join(info.pools) or EMPTY),
                     Text(", ".join(extra) or EMPTY), f"{size} {info.pool_impl}",
                     str(info.active), _seen_text(status, now)])
    return fit_table(NODE_COLUMNS, rows, width or console.width, title="Workers")


def list_workers(*, as_json: bool) -> None:
    """Print the workers (`worker ls`): a table, or JSON Lines with `as_json`."""
    from tasks_core.process_runtime import get_runtime

    with expected_errors():
        rt = get_runtime()
        now = time.time()
        statuses = rt.nodes.list_nodes(now, rt.settings.heartbeat_timeout_seconds)
    if as_json:
        print_json_lines(node_json(s) for s in statuses)
        return
    if not statuses:
        console.print("No workers. Start one with `tasks-core worker --pool NAME`.",
                      highlight=False)
        return
    console.print(nodes_table(statuses, now))
