"""`RunStore.get_many` without history reads records through read_runs.lua (one JSON text
per run): the same records as HGETALL gives, in order, missing ones skipped, past a chunk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, state_type
from tasks_core.store.runs import READ_CHUNK


def test_get_many_reads_the_same_records_in_order(tc_env: dict[str, Any]) -> None:
    store = get_runtime().store
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    runs = [RunRecord(id=f"r{i}", kind="flow", name=f"ünï/{i} \"quoted\" \\ 1/2",
                      parameters={"n": i, "nested": {"list": [1, "two", None]}, "x": "é€"},
                      state=StateName.COMPLETED, state_type=state_type(StateName.COMPLETED),
                      created=t0 + timedelta(seconds=i), tags=["a", "b/c"],
                      start_time=t0, end_time=t0 + timedelta(seconds=1))
            for i in range(READ_CHUNK + 5)]
    store.create_many([(run, None) for run in runs])
    ids = [run.id for run in reversed(runs)]
    ids.insert(3, "missing")
    read = store.get_many(ids)
    assert [r.id for r in read] == [run.id for run in reversed(runs)]
    for got in read[:10]:
        assert got == store.get(got.id).model_copy(update={"history": []})
    assert read[-1].parameters == {"n": 0, "nested": {"list": [1, "two", None]}, "x": "é€"}
    assert store.get_many([]) == [] and store.get_many(["missing"]) == []
