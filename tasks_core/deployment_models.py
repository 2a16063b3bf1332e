"""Deployment and work-pool records (pydantic), stored as JSON in Redis."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from tasks_core.pool_names import pool_name_error
from tasks_core.records import RunOptions

__all__ = ["Deployment", "WorkPool", "slugify"]


def slugify(name: str) -> str:
    """Lowercase, dashes for anything but letters and digits: ``run_deployment_from_flow``
    -> ``run-deployment-from-flow``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"{name!r} has no letters or digits to make a name from")
    return slug


class Deployment(BaseModel):
    """A flow packaged to run on a work pool, by name, on demand, on schedules or events."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    name: str
    flow_name: str
    entrypoint: str
    source: str | None = None
    source_ref: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    parameter_schema: dict[str, Any] = Field(default_factory=dict)
    work_pool_name: str = "default"
    work_queue_name: str | None = None
    schedules: list[dict[str, Any]] = Field(default_factory=list)
    paused: bool = False
    catchup: Literal["skip", "latest", "all"] = "latest"
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    version: str | None = None
    triggers: list[dict[str, Any]] = Field(default_factory=list)
    run_options: RunOptions = Field(default_factory=RunOptions)
    """The flow's retries, delays and timeout when it was deployed; its runs carry them."""
    flow_run_name: str | None = None
    """The flow's ``flow_run_name`` template (a callable is not stored): its runs' names."""
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("name", "flow_name")
    @classmethod
    def _slug(cls, value: str) -> str:
        return slugify(value)

    @field_validator("entrypoint")
    @classmethod
    def _entrypoint_shape(cls, value: str) -> str:
        path, sep, attr = value.rpartition(":")
        if not sep or not path or not attr.isidentifier():
            raise ValueError(f"entrypoint {value!r} must read 'path/to/file.py:flow_function' "
                             "or 'package.module:flow_function'")
        return value

    @property
    def full_name(self) -> str:
        """``flow-name/deployment-name``, the name run_deployment takes."""
        return f"{self.flow_name}/{self.name}"

    @property
    def queue(self) -> str:
        """The Celery queue its runs go to: the pool, or ``pool:work-queue``."""
        if self.work_queue_name:
            return f"{self.work_pool_name}:{self.work_queue_name}"
        return self.work_pool_name


class WorkPool(BaseModel):
    """A work pool: Celery queues served by `tasks-core worker --pool NAME`.

    `paused_queues` are the names of its work queues (``high`` for the Celery queue
    ``<pool>:high``) whose flow runs wait at the gate; kept sorted and without repeats, each
    a valid name (`tasks_core.pool_names`). The pool's own queue (runs without a work
    queue) is paused only with the whole pool (`paused`).
    """

    name: str
    paused: bool = False
    paused_queues: list[str] = Field(default_factory=list)
    concurrency_limit: int | None = Field(default=None, ge=1)
    description: str | None = None
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        error = pool_name_error(value)  # the same check as `worker --pool`
        if error is not None:
            raise ValueError(error)
        return value

    @field_validator("paused_queues")
    @classmethod
    def _plain_queues(cls, value: list[str]) -> list[str]:
        for queue in value:
            error = pool_name_error(queue, what="work queue name")
            if error is not None:
                raise ValueError(error)
        return sorted(set(value))
