"""AsyncResult's pure parts: Celery's state while a task reports its own with
``update_state`` (fields `celery_state` / `celery_meta` on the record), and timeouts that
``except celery.exceptions.TimeoutError`` catches. No Redis: the record is given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import celery.exceptions
import pytest

from tasks_core.async_result import AsyncResult, _meta
from tasks_core.errors import RunTimeout
from tasks_core.records import RunRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _record(state: str, **extra: Any) -> RunRecord:
    record = RunRecord(id="r1", name="add", state=state, state_type="RUNNING"
                       if state == "Running" else "COMPLETED", created=NOW)
    for name, value in extra.items():  # fields another change adds to RunRecord
        object.__setattr__(record, "__dict__", {**record.__dict__, name: value})
    return record


def _result(record: RunRecord, monkeypatch: pytest.MonkeyPatch) -> AsyncResult:
    monkeypatch.setattr(AsyncResult, "_record", lambda self: record)
    return AsyncResult("r1")


def test_a_custom_state_shows_while_running(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _result(_record("Running", celery_state="PROGRESS",
                             celery_meta='{"done": 3, "total": 10}'), monkeypatch)
    assert result.state == "PROGRESS" and result.status == "PROGRESS"
    assert result.info == {"done": 3, "total": 10} and result.result == result.info
    assert not result.ready()


def test_without_a_custom_state_running_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _result(_record("Running"), monkeypatch)
    assert result.state == "STARTED" and result.info is None


def test_the_end_wins_over_a_custom_state(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _result(_record("Failed", celery_state="PROGRESS"), monkeypatch)
    assert result.state == "FAILURE" and result.ready()


def test_meta_given_as_json_text_or_object() -> None:
    assert _meta(_record("Running", celery_meta={"a": 1})) == {"a": 1}
    assert _meta(_record("Running", celery_meta="not json")) == "not json"
    assert _meta(_record("Running")) is None


def test_run_timeout_is_celery_timeout_error() -> None:
    with pytest.raises(celery.exceptions.TimeoutError):
        raise RunTimeout("late")
    assert isinstance(RunTimeout("late"), TimeoutError)


def test_async_results_compare_by_id() -> None:
    assert AsyncResult("a") == AsyncResult("a") and AsyncResult("a") == "a"
    assert AsyncResult("a") != AsyncResult("b") and len({AsyncResult("a"), AsyncResult("a")}) == 1
    assert repr(AsyncResult("a")) == "<AsyncResult: a>" and str(AsyncResult("a")) == "a"


def test_eager_result_holds_its_value_in_memory() -> None:
    from tasks_core.async_result import EagerResult

    ok = EagerResult("e1", 5, "SUCCESS", name="add")
    assert ok.get() == 5 and ok.result == 5 and ok.state == "SUCCESS" and ok.ready()
    assert ok.successful() and not ok.failed() and ok.traceback is None
    bad = EagerResult("e2", ValueError("v"), "FAILURE", traceback="Traceback ...")
    assert isinstance(bad.get(propagate=False), ValueError) and bad.failed()
    with pytest.raises(ValueError):
        bad.get()
    assert bad.traceback == "Traceback ..." and repr(bad) == "<EagerResult: e2>"
