"""A run's record layout on a real Redis: records written before the history moved into the
record still read and are moved on their next transition, and a run id used again after its
record expired gets event ids of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.records import RunRecord
from tasks_core.run_event_codec import entry_text
from tasks_core.states import StateName, StateType
from tasks_core.store.runs import Transition

T0 = "2026-11-29T10:00:00.123456+00:00"


@pytest.fixture
def rt(tc_env: dict[str, Any]) -> Iterator[Runtime]:
    yield get_runtime()


def _events_of(rt: Runtime, run_id: str) -> list[dict[str, Any]]:
    out = []
    for _, fields in rt.client.xrange(rt.store.keys.events):
        event = json.loads(entry_text(fields) or "{}")
        if event.get("resource", {}).get("tasks-core.resource.id", "").endswith(run_id):
            out.append(event)
    return out


def _write_old_layout(rt: Runtime, run_id: str) -> None:
    """A Running record as the store wrote it before 2026-11-30: created, state_type and
    last_event stored, the history in a list of JSON objects."""
    k = rt.store.keys
    rt.client.hset(k.run(run_id), mapping={
        "id": run_id, "name": "add", "kind": "task", "task_key": "m:add", "attempt": "1",
        "state": "Running", "state_type": "RUNNING", "created": T0, "last_event": "old-2",
        "related": '["task.add"]'})
    rt.client.rpush(k.legacy_history(run_id),
                    json.dumps({"name": "Pending", "timestamp": T0}),
                    json.dumps({"name": "Running", "timestamp": T0, "type": "RUNNING"}))
    rt.client.zadd(k.state_index("task", StateName.RUNNING), {run_id: 1.0})


def test_a_record_from_before_reads_and_is_moved_by_its_next_transition(rt: Runtime) -> None:
    client, keys = rt.client, rt.store.keys
    _write_old_layout(rt, "old")
    before = rt.store.get("old")
    assert [e.name for e in before.history] == ["Pending", "Running"]
    assert [e.name for e in rt.store.get_many(["old"], history=True)[0].history] == [
        "Pending", "Running"]
    assert [e.name for e in rt.store.history_since("old", 1)] == ["Running"]
    assert before.created == datetime.fromisoformat(T0)

    assert rt.store.transition(Transition("old", StateName.COMPLETED, result_json="3")).applied
    after = rt.store.get("old")
    assert [e.name for e in after.history] == ["Pending", "Running", "Completed"]
    assert after.state_type is StateType.COMPLETED
    assert not client.exists(keys.legacy_history("old"))
    assert client.hget(keys.run("old"), "hn") == "3"
    assert client.hget(keys.run("old"), "last_event") is None
    [event] = _events_of(rt, "old")
    assert event["follows"] == "old-2"  # the chain goes on from the last stored id
    assert event["event"] == "tasks-core.task-run.Completed"


def test_a_run_id_used_again_after_its_record_expired_gets_new_event_ids(
        rt: Runtime) -> None:
    def run_once() -> list[str]:
        rt.store.create(RunRecord.model_validate({
            "id": "again", "name": "add", "kind": "task", "task_key": "m:add",
            "state": StateName.PENDING, "state_type": StateType.PENDING,
            "created": datetime.now(UTC)}))
        assert rt.store.transition(Transition("again", StateName.RUNNING)).applied
        assert rt.store.transition(Transition("again", StateName.COMPLETED)).applied
        return [e["id"] for e in _events_of(rt, "again")]

    first = run_once()
    rt.client.delete(rt.store.keys.run("again"))  # as its TTL would
    both = run_once()
    assert len(first) == 3 and len(both) == 6
    assert len(set(both)) == 6, "a reused run id repeated event ids"
    events = _events_of(rt, "again")
    assert [e["follows"] for e in events[3:]] == [None, events[3]["id"], events[4]["id"]]
