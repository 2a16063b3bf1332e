"""Where a run's result and history live on a real Redis: a short result in the record
(field ``result``), a long one, or one that must expire before the record, under a key of
its own; the history as fields of the record; a plain run's record in the compact listpack
encoding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tasks_core.process_runtime import Runtime, get_runtime, reset_runtime
from tasks_core.records import RunRecord
from tasks_core.settings import reset_settings
from tasks_core.states import StateName, StateType
from tasks_core.store.runs import RESULT_INLINE_MAX, Transition


@pytest.fixture
def rt(tc_env: dict[str, Any]) -> Iterator[Runtime]:
    yield get_runtime()


def _finished(rt: Runtime, run_id: str, result_json: str) -> None:
    rt.store.create(RunRecord.model_validate({
        "id": run_id, "name": "add", "kind": "task", "task_key": "m:add",
        "state": StateName.PENDING, "state_type": StateType.PENDING,
        "created": datetime.now(UTC), "related": [
            {"tasks-core.resource.id": "tasks-core.task.add",
             "tasks-core.resource.role": "task"}]}))
    assert rt.store.transition(Transition(run_id, StateName.RUNNING)).applied
    assert rt.store.transition(Transition(
        run_id, StateName.COMPLETED, result_json=result_json,
        fields={"result_size": str(len(result_json))})).applied


def test_a_short_result_is_kept_in_the_record(rt: Runtime) -> None:
    client, keys = rt.client, rt.store.keys
    _finished(rt, "short", "42")
    assert client.hget(keys.run("short"), "result") == "42"
    assert not client.exists(keys.result("short"))
    assert client.object("encoding", keys.run("short")) == "listpack"
    assert rt.store.result_json("short") == "42"
    assert rt.store.outcome_of("short") == ("Completed", True, "42")
    record = rt.store.get("short")
    assert record.result_ref == "inline"
    assert [entry.name for entry in record.history] == ["Pending", "Running", "Completed"]
    assert record.state_type is StateType.COMPLETED and record.created == record.history[
        0].timestamp
    assert client.hget(keys.run("short"), "hn") == "3"
    assert not client.exists(f"{keys.run('short')}:history")
    assert rt.store.forget_result("short") is True
    assert rt.store.result_json("short") is None
    assert rt.store.outcome_of("short") == ("Completed", True, None)  # stored, then forgotten


def test_a_long_result_has_a_key_of_its_own_with_the_result_ttl(rt: Runtime) -> None:
    client, keys = rt.client, rt.store.keys
    text = json.dumps("x" * RESULT_INLINE_MAX)
    _finished(rt, "long", text)
    assert client.hget(keys.run("long"), "result") is None
    assert client.get(keys.result("long")) == text
    assert 0 < client.ttl(keys.result("long")) <= rt.settings.result_ttl_seconds
    assert rt.store.get("long").result_ref == keys.result("long")
    assert rt.store.result_json("long") == text
    assert rt.store.forget_result("long") is True and rt.store.result_json("long") is None


@pytest.mark.parametrize("result_ttl", [60, 2 * 86_400])
def test_a_result_with_a_ttl_other_than_its_records_has_a_key_of_its_own(
        tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, result_ttl: int) -> None:
    monkeypatch.setenv("TASKS_CORE_RESULT_TTL_SECONDS", str(result_ttl))
    reset_settings()
    reset_runtime()
    rt = get_runtime()
    _finished(rt, "own", "7")
    assert rt.client.hget(rt.store.keys.run("own"), "result") is None
    assert result_ttl - 5 < rt.client.ttl(rt.store.keys.result("own")) <= result_ttl
    assert rt.store.result_json("own") == "7"
