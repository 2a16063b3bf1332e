"""Run-state events: `tasks-core.task-run.<State>` / `tasks-core.flow-run.<State>`.

One is emitted, atomically with the change, when a run is created and at every transition.
They are assembled in Redis by one Lua function, `store/run_event.lua` (shared by
create.lua and transition.lua: the state left, the previous event's id and the record's
name and related resources are read there, in the same atomic step), from what this module
builds: the run's resource id and its related resources. Shape (an `Event`)::

    {"id", "occurred", "received", "event": "tasks-core.flow-run.Completed",
     "resource": {"tasks-core.resource.id": "tasks-core.flow-run.<id>",
                  "tasks-core.resource.name": "<flow or task name>",
                  "tasks-core.state-name": "Completed", "tasks-core.state-type": "COMPLETED"},
     "related": [{"tasks-core.resource.id": "tasks-core.flow.<name>",
                  "tasks-core.resource.role": "flow"},
                 {... "tasks-core.flow-run.<parent id>", role "flow-run"},
                 {... "tasks-core.deployment.<id>", role "deployment"},
                 {... "tasks-core.automation.<id>", role "automation"} (started by one),
                 {... "tasks-core.tag.<tag>", role "tag"}],
     "follows": "<the run's previous event id>" | null,
     "payload": {"intended": {"from": "Running" | null, "to": "Completed"},
                 "initial_state": {"name", "type"} | null,
                 "validated_state": {"name", "type", "message"}}}

The stream keeps about `event_retention` events (settings; an approximate MAXLEN).
"""

from __future__ import annotations

from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE

__all__ = ["automation_related", "deployment_related", "run_related", "run_resource_id"]


def run_resource_id(kind: str, run_id: str) -> str:
    """``tasks-core.task-run.<id>`` or ``tasks-core.flow-run.<id>``."""
    return f"tasks-core.{kind}-run.{run_id}"


def run_related(
    *, task_name: str, kind: str, parent_flow_run_id: str | None, tags: list[str]
) -> list[dict[str, str]]:
    """Related resources of a run event: its task or flow, parent flow run and tags."""
    related = [{RESOURCE_ID: f"tasks-core.{kind}.{task_name}", RESOURCE_ROLE: kind}]
    if parent_flow_run_id:
        related.append(
            {RESOURCE_ID: run_resource_id("flow", parent_flow_run_id), RESOURCE_ROLE: "flow-run"}
        )
    related.extend({RESOURCE_ID: f"tasks-core.tag.{tag}", RESOURCE_ROLE: "tag"} for tag in tags)
    return related


def deployment_related(deployment_id: str) -> dict[str, str]:
    """The related resource naming the deployment a flow run belongs to."""
    return {RESOURCE_ID: f"tasks-core.deployment.{deployment_id}",
            RESOURCE_ROLE: "deployment"}


def automation_related(automation_id: str, name: str) -> dict[str, str]:
    """The related resource naming the automation that started a flow run."""
    return {RESOURCE_ID: f"tasks-core.automation.{automation_id}",
            RESOURCE_ROLE: "automation", RESOURCE_NAME: name}
