"""The deployments file (like prefect.yaml): deployments declared in YAML, registered by
`tasks-core deploy`. `configs/deployments.yaml` documents the format."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasks_core.errors import ConfigurationError

__all__ = ["DeploymentSpec", "load_deployment_file", "register"]


class DeploymentSpec(BaseModel):
    """One deployment of the file."""

    model_config = ConfigDict(extra="forbid")

    name: str
    entrypoint: str
    source: str = "."
    ref: str | None = None
    work_pool: str | None = None
    work_queue: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    cron: str | None = None
    interval: float | None = None
    rrule: str | None = None
    timezone: str | None = None
    schedules: list[dict[str, Any]] = Field(default_factory=list)
    catchup: Literal["skip", "latest", "all"] = "latest"
    tags: list[str] = Field(default_factory=list)
    paused: bool = False
    description: str | None = None
    version: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployments: list[DeploymentSpec]


def load_deployment_file(path: Path) -> list[DeploymentSpec]:
    """The deployments of a file; ConfigurationError naming the file and what is wrong."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read deployments file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"deployments file {path} is not valid YAML: {exc}") from None
    try:
        return _File.model_validate(data or {}).deployments
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigurationError(f"deployments file {path}: {problems}") from None


def register(spec: DeploymentSpec, base: Path) -> str:
    """Create or update the deployment of a spec (its source relative to `base`); its id."""
    from tasks_core.engine.sources import is_git
    from tasks_core.flow import Flow

    source = spec.source if is_git(spec.source) else str((base / spec.source).resolve())
    flow = Flow.from_source(source, spec.entrypoint, ref=spec.ref)
    return flow.deploy(
        spec.name, work_pool_name=spec.work_pool, work_queue_name=spec.work_queue,
        parameters=spec.parameters, cron=spec.cron,
        interval=timedelta(seconds=spec.interval) if spec.interval else None, rrule=spec.rrule,
        timezone=spec.timezone, schedules=spec.schedules, catchup=spec.catchup, tags=spec.tags,
        paused=spec.paused, description=spec.description, version=spec.version)
