"""The CLI's shared output helpers: pure formatting, no Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer
from rich.console import Console

from tasks_core.cli.output import (
    STATE_STYLES,
    expected_errors,
    format_duration,
    format_time,
    history_rows,
    history_table,
    parse_state,
    preview,
    run_duration,
    runs_table,
    state_text,
)
from tasks_core.cli.processes import check_flower_binding, is_loopback
from tasks_core.errors import ConfigurationError, RunNotFound, ValidationError
from tasks_core.records import RunRecord, StateEntry
from tasks_core.run_queries import SCAN_LIMIT, find_runs
from tasks_core.states import StateName, StateType, state_type

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def entry(name: StateName, seconds: float, message: str = "") -> StateEntry:
    return StateEntry(name=name, type=state_type(name), timestamp=T0 + timedelta(seconds=seconds),
                      message=message)


def record(**fields: object) -> RunRecord:
    base: dict[str, object] = {"id": "r1", "name": "add", "state": StateName.RUNNING,
                               "state_type": StateType.RUNNING, "created": T0}
    return RunRecord.model_validate({**base, **fields})


def render(renderable: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(None, "-"), (-1, "0ms"), (0.0123, "12ms"), (1.25, "1.2s"), (59.94, "59.9s"),
     (61, "1m 01s"), (3_725, "1h 02m"), (2 * 86_400 + 3_600, "2d 01h")],
)
def test_format_duration(seconds: float | None, expected: str) -> None:
    assert format_duration(seconds) == expected


def test_format_time_is_local_to_the_second() -> None:
    assert format_time(None) == "-"
    assert format_time(T0) == T0.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def test_every_state_type_has_a_colour_and_names_use_it() -> None:
    assert set(STATE_STYLES) == set(StateType)
    assert state_text("TimedOut").style == STATE_STYLES[StateType.FAILED]
    assert state_text("Cached", "hit").plain == "Cached (hit)"
    assert state_text("NotAState").plain == "NotAState"  # shown, not crashed on


@pytest.mark.parametrize("text", ["Completed", "completed", "AWAITING_RETRY", "timed-out"])
def test_parse_state_is_forgiving_about_case_and_separators(text: str) -> None:
    assert parse_state(text) in set(StateName)


def test_parse_state_lists_valid_names() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_state("Done")
    assert "unknown state 'Done'" in str(caught.value)
    assert all(name.value in str(caught.value) for name in StateName)


def test_history_rows_time_in_each_state() -> None:
    history = [entry(StateName.PENDING, 0), entry(StateName.RUNNING, 1.5),
               entry(StateName.COMPLETED, 4)]
    rows = history_rows(history, now=T0 + timedelta(seconds=100))
    assert [row.seconds for row in rows] == [1.5, 2.5, None]
    assert not any(row.current for row in rows)


def test_history_rows_the_current_state_runs_until_now() -> None:
    rows = history_rows([entry(StateName.RUNNING, 0)], now=T0 + timedelta(seconds=7))
    assert rows[0].seconds == 7 and rows[0].current
    text = render(history_table([entry(StateName.RUNNING, 0, "[red]x")],
                                T0 + timedelta(seconds=7)))
    assert "7.0s (so far)" in text and "[red]x" in text  # messages are not markup


def test_run_duration() -> None:
    now = T0 + timedelta(seconds=30)
    assert run_duration(record(), now) == (None, False)
    assert run_duration(record(start_time=T0), now) == (30.0, True)
    done = record(state="Completed", state_type="COMPLETED", start_time=T0,
                  end_time=T0 + timedelta(seconds=2))
    assert run_duration(done, now) == (2.0, False)


def test_runs_table_shows_every_column_when_wide() -> None:
    run = record(start_time=T0, queue="fast", worker="host-1", attempt=2,
                 options={"retries": 3}, name="etl [nightly]")
    text = render(runs_table([run], T0 + timedelta(seconds=5), width=200))
    for expected in ("r1", "etl [nightly]", "Running", "2/4", "fast", "5.0s …", "host-1"):
        assert expected in text


def test_runs_table_at_80_columns_keeps_short_id_name_and_state_on_one_line() -> None:
    runs = [record(id=f"9488840d-{i:04d}-4000-8000-00000000000{i}", name=f"my-flow-{i}",
                   start_time=T0, queue="a-rather-long-queue-name",
                   worker="celery@a-very-long-worker-host-name.example.com")
            for i in range(2)] + [record(id="17c2e0f1-aaaa-4000-8000-000000000000",
                                         name="x" * 30, start_time=T0)]
    console = Console(width=80, record=True, color_system=None)
    console.print(runs_table(runs, T0 + timedelta(seconds=5), width=80))
    lines = console.export_text().splitlines()
    assert all(len(line) <= 80 for line in lines)
    # the two ids sharing 8 characters grow until unique; the other stays at 8
    for short, name in (("9488840d-0000", "my-flow-0"), ("9488840d-0001", "my-flow-1"),
                        ("17c2e0f1", "x" * 30)):
        assert any(short in line and name in line and "Running" in line for line in lines)
    assert "17c2e0f1-" not in "".join(lines)
    assert "Worker" not in lines[1]  # dropped first at this width


def test_preview_pretty_prints_and_cuts() -> None:
    assert preview(None) == "-"
    assert preview('{"a":1}') == '{\n  "a": 1\n}'
    assert preview("not json") == "not json"
    cut = preview('"' + "x" * 50 + '"', limit=10)
    assert cut.startswith('"xxxxxxxxx…') and "52 characters, cut" in cut


@pytest.mark.parametrize("error", [RunNotFound("run 'x' not found"), ConfigurationError("bad")])
def test_expected_errors_exit_1(error: Exception, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as caught, expected_errors():
        raise error
    assert caught.value.exit_code == 1
    assert str(error) in capsys.readouterr().err


@pytest.mark.parametrize(("address", "local"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("", False), ("10.0.0.5", False),
    ("example.com", False),
])
def test_is_loopback(address: str, local: bool) -> None:
    assert is_loopback(address) is local


def test_flower_binding_needs_credentials_beyond_loopback() -> None:
    assert check_flower_binding("127.0.0.1", None) == []
    assert check_flower_binding("0.0.0.0", "a:b, c:d") == ["a:b", "c:d"]
    with pytest.raises(ConfigurationError, match="without credentials"):
        check_flower_binding("0.0.0.0", None)
    with pytest.raises(ConfigurationError, match="user:password"):
        check_flower_binding("127.0.0.1", "admin")


class FakeStore:
    """`list_ids` / `get_many` over an in-memory list (newest first), counting calls."""

    def __init__(self, names: list[str], *, expired: frozenset[str] = frozenset()) -> None:
        self.records = [record(id=f"r{i}", name=name) for i, name in enumerate(names)]
        self.expired = expired
        self.windows: list[int] = []

    def list_ids(self, kind: str = "task", *, state: str | None = None,
                 limit: int = 50) -> list[str]:
        self.windows.append(limit)
        return [r.id for r in self.records[:limit]]

    def get_many(self, ids: list[str]) -> list[RunRecord]:
        wanted = set(ids) - self.expired
        return [r for r in self.records if r.id in wanted]


def test_find_runs_without_filters_skips_expired_records() -> None:
    store = FakeStore(["a"] * 10, expired=frozenset({"r0", "r1"}))
    found, capped = find_runs(store, state=None, name=None, limit=3)  # type: ignore[arg-type]
    assert [r.id for r in found] == ["r2", "r3", "r4"] and not capped


def test_find_runs_by_name_scans_in_growing_bounded_windows() -> None:
    store = FakeStore(["other"] * (SCAN_LIMIT + 10) + ["rare"])
    found, capped = find_runs(store, state=None, name="rare", limit=5)  # type: ignore[arg-type]
    assert found == [] and capped
    assert store.windows[-1] == SCAN_LIMIT and store.windows == sorted(store.windows)

    store = FakeStore(["x", "etl-a", "y", "etl-b", "etl-c"])
    found, capped = find_runs(store, state=None, name="etl-*", limit=2)  # type: ignore[arg-type]
    assert [r.name for r in found] == ["etl-a", "etl-b"] and not capped
