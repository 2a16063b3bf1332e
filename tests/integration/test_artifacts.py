"""Artifacts (`tasks_core.artifacts`): attached to the current run, keyed versions, progress
updates, limits and bad input; on a real Redis, in this process and on real workers."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from tasks_core.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from tasks_core.errors import ArtifactNotFound, ValidationError
from tasks_core.process_runtime import get_runtime
from tests.integration import artifact_tasks as a


def test_a_flow_attaches_its_artifacts_and_its_tasks_artifacts(tc_env: dict[str, Any]) -> None:
    table_id, link_id, report_id = a.artifact_flow()
    store = get_runtime().artifacts
    table, link, report = (store.get(i) for i in (table_id, link_id, report_id))
    assert table is not None and link is not None and report is not None
    flow_run_id = table.flow_run_id
    assert flow_run_id and table.task_run_id is None and link.flow_run_id == flow_run_id
    assert report.flow_run_id == flow_run_id and report.task_run_id not in (None, flow_run_id)
    get_runtime().reporter.flush()
    assert get_runtime().store.get(report.task_run_id or "").name == "report"
    assert table.data == [{"city": "Oslo", "n": 3}, {"city": "Lima", "n": 5}]
    assert link.data == {"link": "https://example.com/data.csv", "link_text": "the data"}
    assert [x.id for x in store.of_run(flow_run_id)] == [table_id, link_id, report_id]
    assert [x.id for x in store.of_run(report.task_run_id or "")] == [report_id]


def test_outside_a_run_an_artifact_is_kept_unattached(tc_env: dict[str, Any]) -> None:
    artifact_id = create_markdown_artifact("plain", key="loose-note")
    assert isinstance(artifact_id, uuid.UUID)
    stored = get_runtime().artifacts.get(str(artifact_id))
    assert stored is not None and stored.flow_run_id is None and stored.task_run_id is None
    assert stored.data == "plain" and stored.type == "markdown"


def test_keyed_versions_keep_their_history_and_the_latest_wins(tc_env: dict[str, Any]) -> None:
    ids = [a.report(v) for v in (1, 2, 3)]
    create_markdown_artifact("other", key="other-report")
    create_markdown_artifact("no key")
    store = get_runtime().artifacts
    assert [x.id for x in store.versions("daily-report")] == ids[::-1]
    latest = store.latest("daily-report")
    assert latest is not None and latest.data == "# Report v3"
    listed = store.newest(keyed_only=True)
    assert [x.key for x in listed] == ["other-report", "daily-report"]
    assert listed[1].id == ids[-1]


def test_progress_is_updated_in_place(tc_env: dict[str, Any]) -> None:
    artifact_id = a.progress_steps(4)
    store = get_runtime().artifacts
    stored = store.get(artifact_id)
    assert stored is not None and stored.data == 100.0
    assert [x.id for x in store.versions("load-progress")] == [artifact_id]
    with pytest.raises(ValidationError, match="from 0 to 100"):
        update_progress_artifact(artifact_id, 101)
    with pytest.raises(ArtifactNotFound, match="not found"):
        update_progress_artifact(uuid.uuid4(), 5)
    other = create_markdown_artifact("x")
    with pytest.raises(ValidationError, match="only progress artifacts"):
        update_progress_artifact(other, 5)


@pytest.mark.parametrize("key", ["Daily", "daily_report", "a b", "x" * 201, ""])
def test_a_bad_key_is_refused_and_nothing_is_stored(tc_env: dict[str, Any], key: str) -> None:
    with pytest.raises(ValidationError, match="lower-case letters, digits and dashes"):
        create_markdown_artifact("x", key=key)
    assert get_runtime().artifacts.newest() == []


def test_bad_data_is_refused_with_one_clear_error(tc_env: dict[str, Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="list of row dicts"):
        create_table_artifact("not a table")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not JSON"):
        create_table_artifact({"a": [object()]})
    with pytest.raises(ValidationError, match="from 0 to 100"):
        create_progress_artifact(-1)
    with pytest.raises(ValidationError, match="non-empty URL"):
        create_link_artifact("")
    monkeypatch.setenv("TASKS_CORE_ARTIFACT_MAX_BYTES", "100")
    from tasks_core.process_runtime import reset_runtime
    from tasks_core.settings import reset_settings

    reset_settings()
    reset_runtime()
    with pytest.raises(ValidationError, match="over the limit of 100"):
        create_markdown_artifact("x" * 200, key="big")
    assert get_runtime().artifacts.newest() == []


def test_nan_cells_become_null_as_prefect_does(tc_env: dict[str, Any]) -> None:
    artifact_id = create_table_artifact({"a": [1.0, math.nan]})
    stored = get_runtime().artifacts.get(str(artifact_id))
    assert stored is not None and stored.data == {"a": [1.0, None]}


def test_artifacts_expire_with_the_run_ttl(tc_env: dict[str, Any]) -> None:
    artifact_id = str(create_markdown_artifact("x", key="ttl-check"))
    client, prefix = tc_env["client"], tc_env["prefix"]
    ttl = get_runtime().settings.run_ttl_seconds
    assert ttl - 5 <= client.ttl(f"{prefix}:artifact:{artifact_id}") <= ttl
    assert ttl - 5 <= client.ttl(f"{prefix}:artifacts:key:ttl-check") <= ttl
    client.delete(f"{prefix}:artifact:{artifact_id}")  # as if it had expired
    assert get_runtime().artifacts.versions("ttl-check") == []
    assert client.zcard(f"{prefix}:artifacts:key:ttl-check") == 0


def test_artifacts_made_on_a_worker_attach_to_its_task_run(tc_env: dict[str, Any],
                                                           start_worker: Any) -> None:
    start_worker(concurrency=1)
    future = a.progress_steps.delay(2)
    artifact_id = future.result(timeout=30)
    stored = get_runtime().artifacts.get(artifact_id)
    assert stored is not None and stored.task_run_id == future.id and stored.data == 100.0


async def _async_use() -> uuid.UUID:
    return await create_markdown_artifact("async", key="async-note")


def test_the_id_may_be_awaited_as_in_prefects_async_code(tc_env: dict[str, Any]) -> None:
    import asyncio

    artifact_id = asyncio.run(_async_use())
    assert isinstance(artifact_id, uuid.UUID)
    stored = get_runtime().artifacts.get(str(artifact_id))
    assert stored is not None and stored.key == "async-note"
