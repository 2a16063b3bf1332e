"""A task and a flow that emit events (workers import this module in test_events.py)."""

from __future__ import annotations

from tasks_core import emit_event, flow, task


@task
def emit_from_task(name: str) -> str:
    event = emit_event(f"test.task.{name}", {"prefect.resource.id": f"test.{name}"},
                       payload={"from": "task"})
    return event.id


@flow
def emit_from_flow(name: str) -> str:
    event = emit_event(f"test.flow.{name}", {"tasks-core.resource.id": f"test.{name}"},
                       related=[{"tasks-core.resource.id": "test.owner",
                                 "tasks-core.resource.role": "owner"}])
    return event.id
