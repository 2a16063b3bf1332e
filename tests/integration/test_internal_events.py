"""Deployment and work-pool events, emitted where those changes happen (real Redis)."""

from __future__ import annotations

from typing import Any

from tasks_core.deployments import delete_deployment, set_paused
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.process_runtime import get_runtime
from tasks_core.work_pools import create_pool, pause_pool, resume_pool
from tests.integration import sample_flows as f

RID = "tasks-core.resource.id"
ROLE = "tasks-core.resource.role"


def _events(glob: str) -> list[Any]:
    rt = get_runtime()
    rt.emitter.flush()
    return list(reversed(list_events(rt.events, EventFilter(events=(glob,)), limit=100)))


def test_deployment_lifecycle_events(tc_env: dict[str, Any]) -> None:
    pool = tc_env["queue"]
    dep_id = f.pipeline.deploy("nightly", work_pool_name=pool, tags=["etl"])
    f.pipeline.deploy("nightly", work_pool_name=pool, tags=["etl"])  # identical: no event
    f.pipeline.deploy("nightly", work_pool_name=pool, tags=["etl"], parameters={"lat": 1.5})
    set_paused("pipeline/nightly", True)
    set_paused("pipeline/nightly", False)
    delete_deployment("pipeline/nightly")
    events = _events("prefect.deployment.*")  # Prefect's spelling reads as tasks-core's
    assert [e.event for e in events] == [
        "tasks-core.deployment.created", "tasks-core.deployment.updated",
        "tasks-core.deployment.paused", "tasks-core.deployment.resumed",
        "tasks-core.deployment.deleted"]
    created, updated = events[0], events[1]
    assert all(e.resource == {RID: f"tasks-core.deployment.{dep_id}",
                              "tasks-core.resource.name": "pipeline/nightly"} for e in events)
    assert [(r[RID], r[ROLE]) for r in created.related] == [
        ("tasks-core.flow.pipeline", "flow"), (f"tasks-core.work-pool.{pool}", "work-pool"),
        ("tasks-core.tag.etl", "tag")]
    assert updated.payload == {"updated_fields": ["parameters"],
                               "updates": {"parameters": {"from": {}, "to": {"lat": 1.5}}}}


def test_work_pool_pause_and_resume_events(tc_env: dict[str, Any]) -> None:
    create_pool("gpu")
    pause_pool("gpu")
    resume_pool("gpu")
    events = _events("tasks-core.work-pool.*")
    assert [e.event for e in events] == ["tasks-core.work-pool.paused",
                                         "tasks-core.work-pool.resumed"]
    assert events[0].resource == {RID: "tasks-core.work-pool.gpu",
                                  "tasks-core.resource.name": "gpu"}
