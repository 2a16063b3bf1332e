"""The run tree of a flow run drawn for the terminal, and its text timeline: pure, no Redis.

The tree itself (`RunNode`, `build_tree`, `walk`, `tree_json`) lives in
`tasks_core.run_tree`, shared with the dashboard, and is re-exported here.

The timeline draws one bar per run of the tree, in tree order, on a common time axis that
starts at the root's start; runs still going are drawn up to `now`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from rich.tree import Tree

from tasks_core.cli.ids import short_ids
from tasks_core.cli.output import STATE_STYLES, format_duration, state_text
from tasks_core.records import RunRecord
from tasks_core.run_tree import (
    SUBFLOW_PREFIX,
    RunNode,
    build_tree,
    run_duration,
    tree_json,
    walk,
)

__all__ = [
    "SUBFLOW_PREFIX",
    "RunNode",
    "Timeline",
    "TimelineRow",
    "build_tree",
    "render_timeline",
    "render_tree",
    "timeline",
    "tree_json",
    "walk",
]

RUNNING_BAR = "▒"
DONE_BAR = "█"


# -- the tree -----------------------------------------------------------------------------


def _clock(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone().strftime("%H:%M:%S")


def node_label(node: RunNode, now: datetime, short_id: str | None = None) -> Text:
    """One line: name, kind, state, start → end, duration and id (`short_id` when given)."""
    record = node.record
    seconds, running = run_duration(record, now)
    kind = "subflow" if node.placeholder is not None else record.kind
    label = Text(record.name, style="bold" if record.kind == "flow" else "")
    label.append(f"  {kind}  ", style="dim")
    label.append_text(state_text(record.state))
    label.append(f"  {_clock(record.start_time)} → {_clock(record.end_time)}  ")
    label.append(format_duration(seconds) + (" (running)" if running else ""))
    label.append(f"  {short_id or record.id}", style="dim cyan")
    return label


def render_tree(node: RunNode, now: datetime) -> Tree:
    """The run tree drawn with rich (user-supplied names are never markup); each run shows
    its short id (unique in the tree, accepted by `inspect`)."""
    short = short_ids(record.id for record in (n.record for _, n in walk(node)))
    tree = Tree(node_label(node, now, short[node.record.id]), guide_style="dim")
    _add_children(tree, node, now, short)
    return tree


def _add_children(branch: Tree, node: RunNode, now: datetime, short: dict[str, str]) -> None:
    for child in node.children:
        label = node_label(child, now, short[child.record.id])
        _add_children(branch.add(label), child, now, short)


# -- the timeline -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One run on the timeline; `start_col`/`end_col` are None for a run not started."""

    depth: int
    node: RunNode
    offset: float | None
    seconds: float | None
    running: bool
    start_col: int | None
    end_col: int | None


@dataclass(frozen=True, slots=True)
class Timeline:
    """Bars of every run in tree order, on `bar_width` columns spanning `span` seconds."""

    rows: list[TimelineRow]
    span: float
    bar_width: int
    label_width: int


LABEL_MAX = 40
STATS_WIDTH = 22  # "  +12m 05s  1h 03m …"
BAR_MIN = 10


def _span_of(record: RunRecord, origin: datetime, now: datetime) -> tuple[float, float, bool]:
    """Offset from origin, seconds and whether running, for a started run."""
    assert record.start_time is not None
    seconds, running = run_duration(record, now)
    offset = max((record.start_time - origin).total_seconds(), 0.0)
    return offset, max(seconds or 0.0, 0.0), running


def timeline(root: RunNode, now: datetime, width: int) -> Timeline:
    """Scale every run of the tree onto a bar of columns that fits `width` characters."""
    nodes = list(walk(root))
    label_width = min(max(2 * depth + len(node.record.name) for depth, node in nodes),
                      LABEL_MAX, max(width // 3, 8))
    bar_width = max(width - label_width - STATS_WIDTH - 3, BAR_MIN)
    starts = [node.record.start_time for _, node in nodes if node.record.start_time]
    origin = root.record.start_time or min(starts, default=now)
    spans = {node.record.id: _span_of(node.record, origin, now)
             for _, node in nodes if node.record.start_time is not None}
    span = max((offset + seconds for offset, seconds, _ in spans.values()), default=0.0)
    scale = bar_width / span if span > 0 else 0.0
    rows = []
    for depth, node in nodes:
        if node.record.id not in spans:
            rows.append(TimelineRow(depth, node, None, None, False, None, None))
            continue
        offset, seconds, running = spans[node.record.id]
        start_col = min(int(offset * scale), bar_width - 1)
        end_col = min(max(math.ceil((offset + seconds) * scale), start_col + 1), bar_width)
        rows.append(TimelineRow(depth, node, offset, seconds, running, start_col, end_col))
    return Timeline(rows, span, bar_width, label_width)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def render_timeline(chart: Timeline) -> Text:
    """The timeline as text: an axis line, then one labelled bar per run."""
    out = Text()
    pad = " " * (chart.label_width + 1)
    left, right = "0s", format_duration(chart.span)
    out.append(pad + "|" + left + right.rjust(chart.bar_width - len(left)) + "|\n", style="dim")
    for row in chart.rows:
        label = _fit("  " * row.depth + row.node.record.name, chart.label_width)
        out.append(label.ljust(chart.label_width) + " ")
        out.append("|", style="dim")
        out.append_text(_bar(row, chart.bar_width))
        out.append("|", style="dim")
        out.append(_stats(row) + "\n")
    out.rstrip()
    return out


def _bar(row: TimelineRow, width: int) -> Text:
    if row.start_col is None or row.end_col is None:
        return Text(" " * width)
    record = row.node.record
    style = STATE_STYLES.get(record.state_type, "")
    fill = (RUNNING_BAR if row.running else DONE_BAR) * (row.end_col - row.start_col)
    bar = Text(" " * row.start_col)
    bar.append(fill, style=style)
    bar.append(" " * (width - row.end_col))
    return bar


def _stats(row: TimelineRow) -> str:
    if row.offset is None:
        return f"  {row.node.record.state.value}, not started"
    seconds = format_duration(row.seconds) + (" …" if row.running else "")
    return f"  +{format_duration(row.offset):<7} {seconds}"

