"""RunRecord.from_redis (tasks_core/records.py): a flat hash of strings -> a typed record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from tasks_core.records import ErrorInfo, RunOptions, RunRecord, StateEntry
from tasks_core.state_history import encode_entry
from tasks_core.states import StateName, StateType, state_type

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _fields(**overrides: str) -> dict[str, str]:
    fields = {
        "id": "run-1",
        "kind": "task",
        "name": "add",
        "task_key": "app.tasks:add",
        "parameters": json.dumps({"x": 1, "y": [2, 3]}),
        "state": "Completed",
        "state_type": "COMPLETED",
        "state_message": "",
        "created": T0.isoformat(),
        "start_time": (T0 + timedelta(seconds=1)).isoformat(),
        "end_time": (T0 + timedelta(seconds=3.5)).isoformat(),
        "scheduled_time": "",
        "parent_task_run_id": "",
        "parent_flow_run_id": "",
        "tags": json.dumps(["etl", "nightly"]),
        "queue": "default",
        "priority": "3",
        "worker": "host-a",
        "owner": "host-a:123",
        "attempt": "2",
        "options": json.dumps({"retries": 2, "retry_delays": [1.0, 5.0],
                               "retry_jitter_factor": None, "timeout_seconds": 30}),
        "result_ref": "tc:result:run-1",
        "result_size": "2",
        "error": "",
    }
    fields.update(overrides)
    return fields


def _entry(name: str, seconds: float, message: str = "") -> str:
    return encode_entry(name, state_type(name).value, T0 + timedelta(seconds=seconds), message)


def test_from_redis_types_every_field() -> None:
    record = RunRecord.from_redis(_fields())
    assert record.id == "run-1"
    assert record.kind == "task"
    assert record.parameters == {"x": 1, "y": [2, 3]}
    assert record.tags == ["etl", "nightly"]
    assert record.state is StateName.COMPLETED
    assert record.state_type is StateType.COMPLETED
    assert record.created == T0
    assert record.start_time == T0 + timedelta(seconds=1)
    assert record.priority == 3
    assert record.attempt == 2
    assert record.result_size == 2
    assert isinstance(record.options, RunOptions)
    assert record.options.retries == 2
    assert record.options.retry_delays == [1.0, 5.0]
    assert record.options.timeout_seconds == 30
    assert record.queue == "default"
    assert record.owner == "host-a:123"


def test_empty_strings_are_unset() -> None:
    record = RunRecord.from_redis(_fields())
    assert record.scheduled_time is None
    assert record.parent_task_run_id is None
    assert record.parent_flow_run_id is None
    assert record.error is None
    assert record.state_message == ""


def test_minimal_hash_gets_defaults() -> None:
    record = RunRecord.from_redis({"id": "r", "name": "n", "state": "Pending",
                                   "state_type": "PENDING", "created": T0.isoformat()})
    assert record.parameters == {}
    assert record.tags == []
    assert record.attempt == 0
    assert record.priority == 0
    assert record.options == RunOptions()
    assert record.history == []
    assert record.duration_seconds is None
    assert not record.is_terminal


def test_error_is_parsed() -> None:
    error = ErrorInfo(type="ValueError", message="bad", traceback="Traceback ...")
    record = RunRecord.from_redis(_fields(state="Failed", state_type="FAILED",
                                          error=error.model_dump_json()))
    assert record.error == error
    assert record.is_terminal


def test_history_is_parsed_in_order() -> None:
    history = [_entry("Pending", 0), _entry("Running", 1), _entry("AwaitingRetry", 2, "boom"),
               _entry("Retrying", 3), _entry("Completed", 3.5)]
    stored = {f"h{i}": entry for i, entry in reversed(list(enumerate(history, start=1)))}
    record = RunRecord.from_redis({**_fields(), **stored, "hn": str(len(history))})
    assert RunRecord.from_redis({**_fields(), **stored}, history=False).history == []
    assert [entry.name for entry in record.history] == [
        StateName.PENDING, StateName.RUNNING, StateName.AWAITING_RETRY, StateName.RETRYING,
        StateName.COMPLETED]
    assert all(isinstance(entry, StateEntry) for entry in record.history)
    assert record.history[2].message == "boom"
    assert record.history[2].type is StateType.SCHEDULED
    assert record.history[-1].timestamp == T0 + timedelta(seconds=3.5)
    assert record.history[0].message == ""


@pytest.mark.parametrize(
    ("state", "state_type", "terminal"),
    [("Pending", "PENDING", False), ("Running", "RUNNING", False),
     ("AwaitingRetry", "SCHEDULED", False), ("Completed", "COMPLETED", True),
     ("Cached", "COMPLETED", True), ("Failed", "FAILED", True), ("TimedOut", "FAILED", True),
     ("Crashed", "CRASHED", True), ("Cancelled", "CANCELLED", True),
     ("Cancelling", "CANCELLING", False)],
)
def test_is_terminal(state: str, state_type: str, terminal: bool) -> None:
    record = RunRecord.from_redis(_fields(state=state, state_type=state_type))
    assert record.is_terminal is terminal


def test_duration_seconds() -> None:
    assert RunRecord.from_redis(_fields()).duration_seconds == 2.5
    assert RunRecord.from_redis(_fields(end_time="")).duration_seconds is None
    assert RunRecord.from_redis(_fields(start_time="")).duration_seconds is None


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValidationError):
        RunRecord.from_redis(_fields(state="Sleeping"))


def test_bad_integer_is_refused() -> None:
    with pytest.raises(ValueError):
        RunRecord.from_redis(_fields(attempt="two"))


def test_built_records_equal_validated_ones() -> None:
    """`RunRecord.built` (the engine's fast constructor) makes what validation makes."""
    from tasks_core.engine import new_runs
    from tasks_core.engine.context import RunFrame
    from tasks_core.states import StateName
    from tasks_core.task import task

    @task(retries=2, tags=["b", "a"])
    def work(x: int) -> int:
        return x

    parent = RunFrame("parent-id", "flow", "parent-id", log_prints=True)
    record = new_runs.task_run(work, '{"x":1}', new_runs.run_options(work, parent), parent,
                               state=StateName.PENDING, queue="q", priority=3)
    validated = RunRecord.model_validate({**record.model_dump(),
                                          "parameters_json": record.parameters_json})
    assert record == validated
    assert record.model_fields_set == set(RunRecord.model_fields)
    again = RunRecord.from_redis(record.to_redis())
    assert again.parameters == {"x": 1} and again.options.log_prints and again.priority == 3
    assert again.tags == ["a", "b"] and again.parent_flow_run_id == "parent-id"
    assert again.model_dump(exclude={"parameters", "history"}) == record.model_dump(
        exclude={"parameters", "history", "parameters_json"})


def test_what_the_store_does_not_keep_is_derived() -> None:
    """The store writes no state_type and no created (store/runs.py _DERIVED): the type
    follows from the state, the creation time is the first history entry's, and a stale
    stored type is not believed."""
    stored = {k: v for k, v in _fields().items() if k not in ("state_type", "created")}
    stored.update(h1=_entry("Pending", 0), h2=_entry("Running", 1), hn="2")
    for history in (True, False):
        record = RunRecord.from_redis(stored, history=history)
        assert record.state_type is StateType.COMPLETED
        assert record.created == T0
        assert len(record.history) == (2 if history else 0)
    stale = RunRecord.from_redis({**_fields(), "state_type": "RUNNING"})
    assert stale.state_type is StateType.COMPLETED


def test_a_result_kept_in_the_record_reads_as_inline() -> None:
    record = RunRecord.from_redis({**_fields(result_ref=""), "result": "42"})
    assert record.result_ref == "inline"
    assert "result" not in record.model_dump()
