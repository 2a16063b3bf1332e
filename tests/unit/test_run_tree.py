"""The run tree and timeline of `flow-run inspect`: pure, from hand-made records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from tasks_core.cli.flow_runs import merged_logs
from tasks_core.cli.output import parse_since
from tasks_core.cli.run_tree import (
    build_tree,
    render_timeline,
    render_tree,
    timeline,
    tree_json,
    walk,
)
from tasks_core.errors import ValidationError
from tasks_core.records import RunRecord
from tasks_core.run_queries import name_matcher
from tasks_core.states import StateName, state_type

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
S = StateName


def at(seconds: float | None) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds)


def run(run_id: str, name: str, *, kind: str = "task", state: StateName = S.COMPLETED,
        start: float | None = 0.0, end: float | None = 1.0, flow: str | None = None,
        task: str | None = None, task_key: str = "") -> RunRecord:
    return RunRecord.model_validate({
        "id": run_id, "name": name, "kind": kind, "state": state,
        "state_type": state_type(state), "created": at(start if start is not None else 0),
        "start_time": at(start), "end_time": at(end), "parent_flow_run_id": flow,
        "parent_task_run_id": task, "task_key": task_key or f"mod:{name}"})


def nested() -> tuple[RunRecord, list[RunRecord]]:
    """parent: extract, child-a (subflow: add), child-b (subflow: add, still running)."""
    root = run("F", "parent", kind="flow", start=0, end=None, state=S.RUNNING)
    runs = [
        run("T1", "extract", flow="F", start=0.5, end=2),
        run("P1", "child-a", flow="F", start=2, end=6, task_key="subflow:child-a"),
        run("C1", "child-a", kind="flow", flow="F", task="P1", start=2, end=6),
        run("T2", "add", flow="C1", start=3, end=5),
        # created out of order on purpose: siblings are ordered by start time
        run("T3", "add", flow="C2", start=8, end=None, state=S.RUNNING),
        run("C2", "child-b", kind="flow", flow="F", task="P2", start=7, end=None,
            state=S.RUNNING),
        run("P2", "child-b", flow="F", start=7, end=None, state=S.RUNNING,
            task_key="subflow:child-b"),
        run("X", "unrelated", flow="OTHER"),
    ]
    return root, runs


def shape(node: object) -> list[tuple[int, str, str]]:
    return [(depth, n.record.id, n.record.kind) for depth, n in walk(node)]  # type: ignore[arg-type]


# -- building -----------------------------------------------------------------------------


def test_nested_flows_replace_their_placeholders() -> None:
    root, runs = nested()
    tree = build_tree(root, runs)
    assert shape(tree) == [(0, "F", "flow"), (1, "T1", "task"), (1, "C1", "flow"),
                           (2, "T2", "task"), (1, "C2", "flow"), (2, "T3", "task")]
    subflows = [node for _, node in walk(tree) if node.placeholder is not None]
    assert [(n.record.id, n.placeholder.id) for n in subflows] == [("C1", "P1"), ("C2", "P2")]


def test_a_placeholder_without_its_flow_run_stays() -> None:
    root, runs = nested()
    tree = build_tree(root, [r for r in runs if r.id != "C2"])  # e.g. expired
    assert shape(tree)[-1] == (1, "P2", "task")
    assert tree.children[-1].children == [] and tree.children[-1].placeholder is None


def test_tasks_inside_tasks_hang_under_their_task() -> None:
    root = run("F", "flow", kind="flow", end=10)
    inner = run("T2", "inner", flow="F", task="T1", start=1)
    tree = build_tree(root, [inner, run("T1", "outer", flow="F")])
    assert shape(tree) == [(0, "F", "flow"), (1, "T1", "task"), (2, "T2", "task")]


def test_a_cycle_in_the_records_does_not_loop() -> None:
    root = run("F", "flow", kind="flow")
    tree = build_tree(root, [run("A", "a", flow="F"), run("B", "b", task="A", flow="F"),
                             run("A", "a-again", task="B"), run("F", "root-again", task="B")])
    assert [n.record.name for _, n in walk(tree)] == ["flow", "a", "b"]


def test_tree_json_is_nested_and_measures_running_runs_to_now() -> None:
    root, runs = nested()
    data = tree_json(build_tree(root, runs), now=at(10))  # type: ignore[arg-type]
    json.dumps(data)  # serialisable
    assert data["id"] == "F" and data["running"] is True and data["duration_seconds"] == 10
    c1 = data["children"][1]
    assert (c1["id"], c1["kind"], c1["placeholder_id"]) == ("C1", "flow", "P1")
    assert c1["children"][0]["name"] == "add" and c1["children"][0]["duration_seconds"] == 2
    assert c1["end_time"] == at(6).isoformat()  # type: ignore[union-attr]
    assert data["children"][2]["children"][0]["end_time"] is None


def test_render_tree_shows_names_kinds_states() -> None:
    root, runs = nested()
    console = Console(width=200, no_color=True, record=True)
    console.print(render_tree(build_tree(root, runs), at(10)))  # type: ignore[arg-type]
    out = console.export_text()
    lines = out.splitlines()
    assert lines[0].startswith("parent  flow  Running") and "10.0s (running)" in lines[0]
    assert "child-a  subflow  Completed" in out and "child-b  subflow  Running" in out
    assert "extract  task  Completed" in out and "1.5s" in out
    assert "unrelated" not in out


# -- timeline -----------------------------------------------------------------------------


def test_timeline_scales_bars_onto_the_width() -> None:
    root, runs = nested()
    chart = timeline(build_tree(root, runs), at(10), width=100)  # type: ignore[arg-type]
    assert chart.span == 10 and chart.label_width == len("  extract")
    w = chart.bar_width
    assert w == 100 - 9 - 3 - 22
    rows = {row.node.record.id: row for row in chart.rows}
    assert [row.node.record.id for row in chart.rows] == ["F", "T1", "C1", "T2", "C2", "T3"]
    assert (rows["F"].start_col, rows["F"].end_col) == (0, w)
    assert rows["T1"].start_col == int(0.05 * w) and rows["T1"].end_col == -(-2 * w // 10)
    assert rows["C1"].offset == 2 and rows["C1"].seconds == 4
    assert rows["T3"].running and rows["T3"].end_col == w and rows["T3"].seconds == 2


def test_timeline_text_has_one_line_per_run_in_tree_order() -> None:
    root, runs = nested()
    chart = timeline(build_tree(root, runs), at(10), width=80)  # type: ignore[arg-type]
    lines = render_timeline(chart).plain.splitlines()
    assert len(lines) == 1 + 6 and lines[0].strip().startswith("|0s")
    assert lines[0].rstrip().endswith("10.0s|")
    assert [line.split()[0] for line in lines[1:]] == [
        "parent", "extract", "child-a", "add", "child-b", "add"]
    assert all(len(line) <= 80 for line in lines)
    assert "▒" in lines[1] and "█" not in lines[1]  # running: drawn to now
    assert "█" in lines[2] and "+500ms" in lines[2] and "1.5s" in lines[2]
    assert lines[-1].split("|")[-1].split() == ["+8.0s", "2.0s", "…"]
    bar = lines[2].split("|")[1]
    assert bar.index("█") == int(0.05 * chart.bar_width)


def test_unstarted_runs_get_no_bar_and_tiny_runs_one_column() -> None:
    root = run("F", "flow", kind="flow", start=0, end=0)
    waiting = run("W", "waiting", flow="F", start=None, end=None, state=S.PENDING)
    chart = timeline(build_tree(root, [waiting]), at(5), width=60)  # type: ignore[arg-type]
    assert chart.span == 0
    assert (chart.rows[0].start_col, chart.rows[0].end_col) == (0, 1)
    assert chart.rows[1].start_col is None and chart.rows[1].offset is None
    text = render_timeline(chart).plain.splitlines()
    assert "Pending, not started" in text[2] and "█" not in text[2]


def test_narrow_terminals_keep_a_minimum_bar() -> None:
    root, runs = nested()
    chart = timeline(build_tree(root, runs), at(10), width=20)  # type: ignore[arg-type]
    assert chart.bar_width == 10 and all(
        row.end_col is None or row.end_col <= 10 for row in chart.rows)


# -- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "back"), [("30m", timedelta(minutes=30)),
                                              ("1h", timedelta(hours=1)),
                                              ("2d", timedelta(days=2)),
                                              ("45s", timedelta(seconds=45)),
                                              ("1.5H", timedelta(hours=1.5))])
def test_parse_since_durations(value: str, back: timedelta) -> None:
    assert parse_since(value, T0) == T0 - back


def test_parse_since_iso_times() -> None:
    assert parse_since("2026-11-24T10:00+00:00", T0) == datetime(2026, 11, 24, 10, tzinfo=UTC)
    local = parse_since("2026-11-24T10:00", T0)
    assert local.tzinfo is not None and local.replace(tzinfo=None) == datetime(2026, 11, 24, 10)
    for bad in ("yesterday", "10x", "", "99999999999d"):
        with pytest.raises(ValidationError, match="invalid time"):
            parse_since(bad, T0)


def test_name_matcher() -> None:
    assert name_matcher(None)("x")
    assert name_matcher("etl*")("etl-daily") and not name_matcher("etl*")("daily")
    assert name_matcher("etl")("etl") and not name_matcher("etl")("etl-daily")


def test_merged_logs_order_by_time_across_runs() -> None:
    a, b = run("A", "a"), run("B", "b")
    logs = {"A": [{"timestamp": at(1).isoformat(), "message": "a1"},  # type: ignore[union-attr]
                  {"timestamp": "garbage", "message": "a2"},
                  {"timestamp": at(5).isoformat(), "message": "a3"}],  # type: ignore[union-attr]
            "B": [{"timestamp": at(2).timestamp(), "message": "b1"},  # type: ignore[union-attr]
                  {"timestamp": at(4).isoformat(), "message": "b2"}]}  # type: ignore[union-attr]
    merged = merged_logs([a, b], lambda rid: logs[rid])
    assert [entry["message"] for _, entry in merged] == ["a1", "a2", "b1", "b2", "a3"]
    assert [record.id for record, _ in merged] == ["A", "A", "B", "B", "A"]
