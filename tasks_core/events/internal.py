"""Deployment, work-pool and work-queue events, emitted where those changes happen.

    tasks-core.deployment.created | updated | paused | resumed | deleted
        resource  {"tasks-core.resource.id": "tasks-core.deployment.<id>",
                   "tasks-core.resource.name": "<flow>/<deployment>"}
        related   flow (tasks-core.flow.<flow name>), work-pool (tasks-core.work-pool.<name>),
                  work-queue (tasks-core.work-queue.<pool>:<queue>, when set), tag (each)
        payload   updated: {"updated_fields": [...], "updates": {field: {"from", "to"}}}
    tasks-core.work-pool.paused | resumed | ready | not-ready
        resource  {"tasks-core.resource.id": "tasks-core.work-pool.<name>",
                   "tasks-core.resource.name": "<name>"}
        payload   ready / not-ready: {"workers": [...]}
    tasks-core.work-queue.paused | resumed
        resource  {"tasks-core.resource.id": "tasks-core.work-queue.<pool>:<queue>",
                   "tasks-core.resource.name": "<queue>"}
        related   work-pool (tasks-core.work-pool.<pool>)

They go through the process's buffered client (`emit_event`), like custom events.
"""

from __future__ import annotations

from typing import Any, Literal

from tasks_core.deployment_models import Deployment
from tasks_core.events.emit import emit_event
from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event

__all__ = ["DEPLOYMENT_FIELDS", "deployment_changes", "deployment_event",
           "deployment_resource", "work_pool_event", "work_pool_resource",
           "work_queue_event", "work_queue_resource"]

DeploymentAction = Literal["created", "updated", "paused", "resumed", "deleted"]
PoolAction = Literal["paused", "resumed", "ready", "not-ready"]
QueueAction = Literal["paused", "resumed"]

DEPLOYMENT_FIELDS = ("entrypoint", "source", "source_ref", "parameters", "work_pool_name",
                     "work_queue_name", "schedules", "paused", "catchup", "tags",
                     "description", "version", "triggers")
"""Fields whose changes an ``updated`` event lists."""


def work_pool_resource(name: str) -> dict[str, str]:
    """The resource labels of a work pool."""
    return {RESOURCE_ID: f"tasks-core.work-pool.{name}", RESOURCE_NAME: name}


def work_queue_resource(pool: str, queue: str) -> dict[str, str]:
    """The resource labels of the work queue `queue` of `pool` (Celery queue
    ``<pool>:<queue>``)."""
    return {RESOURCE_ID: f"tasks-core.work-queue.{pool}:{queue}", RESOURCE_NAME: queue}


def deployment_resource(deployment: Deployment) -> dict[str, str]:
    """The resource labels of a deployment."""
    return {RESOURCE_ID: f"tasks-core.deployment.{deployment.id}",
            RESOURCE_NAME: deployment.full_name}


def _deployment_related(deployment: Deployment) -> list[dict[str, str]]:
    related = [
        {RESOURCE_ID: f"tasks-core.flow.{deployment.flow_name}", RESOURCE_ROLE: "flow",
         RESOURCE_NAME: deployment.flow_name},
        {**work_pool_resource(deployment.work_pool_name), RESOURCE_ROLE: "work-pool"},
    ]
    if deployment.work_queue_name:
        related.append({**work_queue_resource(deployment.work_pool_name,
                                              deployment.work_queue_name),
                        RESOURCE_ROLE: "work-queue"})
    related.extend({RESOURCE_ID: f"tasks-core.tag.{tag}", RESOURCE_ROLE: "tag"}
                   for tag in deployment.tags)
    return related


def deployment_changes(before: Deployment, after: Deployment) -> dict[str, Any]:
    """The payload of an ``updated`` event: fields that changed, from and to (JSON)."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    updates = {name: {"from": old.get(name), "to": new.get(name)}
               for name in DEPLOYMENT_FIELDS if old.get(name) != new.get(name)}
    return {"updated_fields": sorted(updates), "updates": updates}


def deployment_event(deployment: Deployment, action: DeploymentAction,
                     payload: dict[str, Any] | None = None) -> Event:
    """Emit ``tasks-core.deployment.<action>`` for `deployment`."""
    return emit_event(f"tasks-core.deployment.{action}", deployment_resource(deployment),
                      payload=payload, related=list(_deployment_related(deployment)))


def work_pool_event(name: str, action: PoolAction,
                    payload: dict[str, Any] | None = None) -> Event:
    """Emit ``tasks-core.work-pool.<action>`` for the pool `name`."""
    return emit_event(f"tasks-core.work-pool.{action}", work_pool_resource(name),
                      payload=payload)


def work_queue_event(pool: str, queue: str, action: QueueAction) -> Event:
    """Emit ``tasks-core.work-queue.<action>`` for the work queue `queue` of `pool`, the
    pool related (role ``work-pool``)."""
    return emit_event(f"tasks-core.work-queue.{action}", work_queue_resource(pool, queue),
                      related=[{**work_pool_resource(pool), RESOURCE_ROLE: "work-pool"}])
