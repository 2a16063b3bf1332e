"""Finding ids by a unique start (the CLI's short ids), on the real test Redis.

`RunIndexes.ids_starting` pages through one kind's by-time index with a bounded ZSCAN;
`DeploymentStore.get` takes a unique start of a deployment id; `resolve_run` puts the two
rules of the CLI together (exact id first, then the asked kind, then the other kind).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tasks_core.cli.ids import resolve_run
from tasks_core.deployment_models import Deployment
from tasks_core.errors import DeploymentNotFound, RunNotFound, ValidationError
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, StateType


def make_run(run_id: str, kind: str = "task") -> None:
    now = datetime.now(UTC)
    get_runtime().store.create(RunRecord(
        id=run_id, kind=kind, name="made", state=StateName.COMPLETED,
        state_type=StateType.COMPLETED, created=now))


def test_ids_starting_is_bounded_by_kind_and_matches_literally(tc_env: dict[str, Any]) -> None:
    indexes = get_runtime().indexes
    for i in range(30):
        make_run(f"aa{i:02d}")
    make_run("ab*1")
    make_run("abx1")
    make_run("aa-flow", kind="flow")

    assert len(indexes.ids_starting("task", "aa", limit=11)) == 11  # stops at the bound
    assert sorted(indexes.ids_starting("task", "aa1", limit=100)) == [f"aa{i}" for i in
                                                                        range(10, 20)]
    assert indexes.ids_starting("task", "ab*") == ["ab*1"]  # '*' is not a wildcard
    assert indexes.ids_starting("task", "aa-") == [] and indexes.ids_starting(
        "flow", "aa") == ["aa-flow"]
    assert indexes.ids_starting("task", "") == [] and indexes.ids_starting("task", "zz") == []


def test_resolve_run_takes_an_exact_id_then_a_unique_start(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    for run_id in ("cafe", "cafe01", "cafe02"):
        make_run(run_id)
    make_run("f00d-flow", kind="flow")

    assert resolve_run(rt.store, rt.indexes, "cafe", "task") == "cafe"  # exact beats prefix
    assert resolve_run(rt.store, rt.indexes, " cafe01 ", "task") == "cafe01"
    assert resolve_run(rt.store, rt.indexes, "f00d", "task") == "f00d-flow"  # the other kind
    with pytest.raises(ValidationError, match=r"task run id 'cafe0' is ambiguous: it starts "
                                              r"cafe01, cafe02; give more of it"):
        resolve_run(rt.store, rt.indexes, "cafe0", "task")
    with pytest.raises(RunNotFound, match=r"no flow run starts with 'cafe0' \(several task "
                                          r"runs do: see `tasks-core task-run ls`\)"):
        resolve_run(rt.store, rt.indexes, "cafe0", "flow")
    with pytest.raises(RunNotFound, match="run 'beef' not found"):
        resolve_run(rt.store, rt.indexes, "beef", "flow")
    with pytest.raises(ValidationError, match="empty task run id"):
        resolve_run(rt.store, rt.indexes, "  ", "task")


def test_a_deployment_by_a_unique_start_of_its_id(tc_env: dict[str, Any]) -> None:
    store = get_runtime().deployments
    made = [store.save(Deployment(id=f"d00{i}-x", name=f"d{i}", flow_name="pipeline",
                                  entrypoint="tests.integration.sample_flows:pipeline",
                                  work_pool_name=tc_env["queue"]))
            for i in range(2)]
    assert store.get("d001").id == made[1].id
    with pytest.raises(ValidationError, match=r"deployment id 'd00' is ambiguous: 2 "
                                              r"deployments start with it \(d000-x, d001-x\)"):
        store.get("d00")
    with pytest.raises(DeploymentNotFound, match="deployment 'e00' not found"):
        store.get("e00")
    with pytest.raises(DeploymentNotFound):
        store.get("d00/x")  # a name is never taken as an id prefix
