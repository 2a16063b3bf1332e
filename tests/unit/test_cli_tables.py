"""Tables that fit the terminal, short ids and `--json` lines: pure, no Redis."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from rich.text import Text

from tasks_core.cli.ids import SHOWN_MATCHES, ambiguous, short_ids
from tasks_core.cli.jsonout import RUN_KEYS, print_json_lines, run_json
from tasks_core.cli.tables import Column, fit_table, kept_columns, table_width
from tasks_core.records import RunRecord

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

COLUMNS = (Column("ID"), Column("Name", shrink=True, min_width=6), Column("State"),
           Column("Queue", drop=3), Column("Created", drop=2), Column("Duration", drop=1),
           Column("Reason", drop=1, flexible=True, min_width=10))


def rows(name: str = "my-flow") -> list[list[Text | str]]:
    return [["9488840d", Text(name), Text("Completed"), "default-queue",
             "2026-11-29 22:00:00", "1.2s", Text("because " * 20)]]


def render(width: int, name: str = "my-flow") -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(fit_table(COLUMNS, rows(name), width))
    return console.export_text().splitlines()


def test_table_width_counts_padding_and_rules() -> None:
    console = Console(width=200, record=True, color_system=None)
    console.print(fit_table([Column("A"), Column("BB")], [["aaaa", "b"]], 200))
    assert len(console.export_text().splitlines()[0]) == table_width([4, 2])


@pytest.mark.parametrize("width", [40, 60, 80, 100, 250])
def test_key_columns_stay_whole_on_one_line_at_any_width(width: int) -> None:
    lines = render(width)
    assert all(len(line) <= width for line in lines)
    row = next(line for line in lines if "9488840d" in line)
    assert "my-flow" in row and "Completed" in row


def test_the_highest_drop_goes_first_and_a_narrow_column_takes_the_room_left() -> None:
    natural = [8, 7, 9, 13, 19, 8, 160]
    assert kept_columns(COLUMNS, natural, 250) == [0, 1, 2, 3, 4, 5, 6]
    # keys 34 cells, Duration +11, Reason (folds, 10 at least) +13, Created +22 = 80
    assert kept_columns(COLUMNS, natural, 80) == [0, 1, 2, 4, 5, 6]
    # 75: Created (drop 2) does not fit; Queue (drop 3, 16 cells) takes the room left
    assert kept_columns(COLUMNS, natural, 75) == [0, 1, 2, 3, 5, 6]
    assert kept_columns(COLUMNS, natural, 30) == [0, 1, 2]


def test_a_flexible_column_folds_into_the_width_left() -> None:
    lines = render(80)
    assert sum("because" in line for line in lines) > 1  # folded over several lines
    assert sum("9488840d" in line for line in lines) == 1


def test_a_name_is_cut_only_when_the_key_columns_alone_do_not_fit() -> None:
    long_name = "n" * 60
    assert any(long_name in line for line in render(100, long_name))
    narrow = render(50, long_name)
    assert all(len(line) <= 50 for line in narrow)
    row = next(line for line in narrow if "9488840d" in line)
    assert "Completed" in row and "nnnnnn…" in row


def test_short_ids_grow_until_unique_among_those_listed() -> None:
    ids = ["9488840d-aaaa", "9488840d-aaab", "9488841e-0000", "17c2e0f1-0000", "r1"]
    assert short_ids(ids) == {"9488840d-aaaa": "9488840d-aaaa", "9488840d-aaab": "9488840d-aaab",
                              "9488841e-0000": "9488841e", "17c2e0f1-0000": "17c2e0f1",
                              "r1": "r1"}
    assert short_ids(["abc", "abcdef"], minimum=2) == {"abc": "abc", "abcdef": "abcd"}
    assert short_ids([]) == {}


def test_an_ambiguous_prefix_lists_at_most_ten_matches() -> None:
    matches = [f"94{i:02d}" for i in range(SHOWN_MATCHES + 1)]
    error = ambiguous("task run", "94", matches, more=False)
    text = str(error)
    assert "task run id '94' is ambiguous" in text and "give more of it" in text
    assert "9409" in text and "9410" not in text and "and more" in text
    assert "and more" not in str(ambiguous("task run", "94", matches[:2], more=False))


def test_run_json_has_the_documented_keys_and_one_line_per_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = RunRecord.model_validate({
        "id": "9488840d-0000", "name": "add", "state": "Running", "state_type": "RUNNING",
        "created": T0, "start_time": T0, "attempt": 1, "options": {"retries": 2}})
    data = run_json(run, T0 + timedelta(seconds=3))
    assert tuple(data) == RUN_KEYS
    assert data["id"] == "9488840d-0000" and data["state"] == "Running"
    assert data["max_attempts"] == 3 and data["duration_seconds"] == 3.0 and data["running"]
    print_json_lines([data, {**data, "name": "two\nlines"}])
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["add", "two\nlines"]


def test_json_lines_stop_quietly_when_the_reader_stops() -> None:
    """`ls --json | head -1`: exit 0, no BrokenPipeError traceback."""
    code = ("from tasks_core.cli.jsonout import print_json_lines\n"
            "print_json_lines({'i': i, 'pad': 'x' * 200} for i in range(200000))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["i"] == 0
    proc.stdout.close()  # as `head -1` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(30) == 0, stderr
    assert "Traceback" not in stderr
