"""The deployments file (like prefect.yaml): deployments declared in YAML, registered by
`tasks-core deploy`. `configs/deployments.yaml` documents the format.

A file is checked whole before anything is registered (`check_file`): every entry's fields
(pydantic: unknown keys, types, work pool and queue names, time zone), its source and
entrypoint (the module imports and the name is a @flow), its parameters against the flow's
signature, its schedules, its triggers (each becomes an automation the deployment owns),
and that no two entries make the same deployment. Every problem found is reported, one line
each, naming the entry and the field; then `register_all` registers the checked
deployments. So a file with one bad entry registers nothing.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tasks_core.deployment_models import Deployment, slugify
from tasks_core.errors import ConfigurationError, TasksCoreError
from tasks_core.pool_names import pool_name_error

if TYPE_CHECKING:
    from tasks_core.flow import Flow

__all__ = ["CheckedDeployment", "DeploymentFileError", "DeploymentSpec", "EntryProblem",
           "check_file", "register_all"]


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
    interval: float | None = Field(default=None, gt=0)
    rrule: str | None = None
    timezone: str | None = None
    schedules: list[dict[str, Any]] = Field(default_factory=list)
    catchup: Literal["skip", "latest", "all"] = "latest"
    tags: list[str] = Field(default_factory=list)
    paused: bool = False
    description: str | None = None
    version: str | None = None
    triggers: list[dict[str, Any]] = Field(default_factory=list)
    """Deployment triggers as JSON (`tasks_core.automations.owned`): each becomes an
    automation that runs this deployment."""

    @field_validator("name")
    @classmethod
    def _sluggable(cls, value: str) -> str:
        slugify(value)  # ValueError: no letters or digits
        return value

    @field_validator("work_pool", "work_queue")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        error = None if value is None else pool_name_error(value, what="name")
        if error is not None:
            raise ValueError(error)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        try:
            return None if value is None else zoneinfo.ZoneInfo(value).key
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                             "'Europe/Paris')") from None


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """One thing wrong with one entry of the file: which entry (1-based position and its
    name when it has one), which field (dotted path) and what."""

    position: int
    name: str | None
    field: str
    message: str

    def line(self) -> str:
        """``deployment 'b' (entry 2), cron: invalid cron expression '99 * * * *'``."""
        entry = (f"deployment {self.name!r} (entry {self.position})" if self.name
                 else f"entry {self.position}")
        return f"{entry}, {self.field}: {self.message}"


class DeploymentFileError(ConfigurationError):
    """A deployments file that cannot be registered: every problem, one line each.

    Attributes:
        path: the file.
        problems: what is wrong with which entry (empty when the file itself is unreadable
            or not shaped ``deployments: [...]``; the message says why).
    """

    def __init__(self, path: Path, problems: Sequence[EntryProblem], summary: str = "") -> None:
        self.path = path
        self.problems = list(problems)
        count = len(self.problems)
        head = summary or (f"deployments file {path}: {count} problem{'s' * (count != 1)}, "
                           "nothing registered")
        super().__init__("\n".join([head, *(f"  {p.line()}" for p in self.problems)]))


@dataclass(frozen=True, slots=True)
class CheckedDeployment:
    """An entry of the file that passed every check, and the deployment it registers."""

    spec: DeploymentSpec
    deployment: Deployment


def _read(path: Path) -> list[Any]:
    """The raw entries of the file (each still unchecked)."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read deployments file {path}: "
                                 f"{exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"deployments file {path} is not valid YAML: {exc}") from None
    if data is None:
        data = {"deployments": []}
    if not isinstance(data, dict) or not isinstance(data.get("deployments"), list):
        raise ConfigurationError(f"deployments file {path} must hold a 'deployments:' list "
                                 "(see configs/deployments.yaml)")
    if unknown := sorted(str(key) for key in data if key != "deployments"):
        raise ConfigurationError(f"deployments file {path}: unknown top-level key(s) "
                                 f"{', '.join(unknown)} (only 'deployments')")
    return list(data["deployments"])


def _raw_name(raw: Any) -> str | None:
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) and name else None


def _parse(position: int, raw: Any) -> tuple[DeploymentSpec | None, list[EntryProblem]]:
    """The entry's spec and its field problems. With bad fields, the spec of the entry
    without them (when that validates), so its other fields are checked too."""
    try:
        return DeploymentSpec.model_validate(raw), []
    except ValidationError as exc:
        errors = exc.errors()
    name = _raw_name(raw)
    problems = [EntryProblem(position, name, ".".join(str(p) for p in e["loc"]) or "entry",
                             e["msg"].removeprefix("Value error, ")) for e in errors]
    bad = {e["loc"][0] for e in errors if e["loc"]}
    if not isinstance(raw, dict) or not bad:
        return None, problems
    try:
        rest = DeploymentSpec.model_validate({k: v for k, v in raw.items() if k not in bad})
    except ValidationError:  # a required field is bad or missing: nothing more to check
        return None, problems
    return rest, problems


def _guarded(problems: list[EntryProblem], position: int, spec: DeploymentSpec, field: str,
             check: Callable[[], Any]) -> Any:
    """`check()`, or None with a problem on `field` when it raises a tasks-core error."""
    try:
        return check()
    except (TasksCoreError, ValueError) as exc:
        problems.append(EntryProblem(position, spec.name, field, str(exc)))
        return None


def _schedule_checks(spec: DeploymentSpec) -> list[tuple[str, Callable[[], Any]]]:
    from tasks_core.schedules import validate_schedules

    zone = spec.timezone
    checks: list[tuple[str, Callable[[], Any]]] = []
    if spec.cron:
        checks.append(("cron", lambda: validate_schedules(spec.cron, None, None, None, zone)))
    if spec.interval is not None:
        checks.append(("interval",
                       lambda: validate_schedules(None, spec.interval, None, None, zone)))
    if spec.rrule:
        checks.append(("rrule", lambda: validate_schedules(None, None, spec.rrule, None, zone)))
    for i, schedule in enumerate(spec.schedules):
        checks.append((f"schedules.{i}",
                       partial(validate_schedules, None, None, None, [schedule], zone)))
    return checks


def _load_flow(position: int, spec: DeploymentSpec, base: Path,
               problems: list[EntryProblem]) -> Flow[Any, Any] | None:
    """The entry's flow from its source, or None with a problem on `source` (the folder or
    repository cannot be had) or `entrypoint` (it does not import, or names no @flow)."""
    from tasks_core.engine.entrypoints import EntrypointError
    from tasks_core.engine.sources import is_git
    from tasks_core.flow import Flow

    source = spec.source if is_git(spec.source) else str((base / spec.source).resolve())
    try:
        return Flow.from_source(source, spec.entrypoint, ref=spec.ref)
    except EntrypointError as exc:
        problems.append(EntryProblem(position, spec.name, "entrypoint", str(exc)))
    except ConfigurationError as exc:
        problems.append(EntryProblem(position, spec.name, "source", str(exc)))
    return None


def _trigger_checks(problems: list[EntryProblem], position: int, spec: DeploymentSpec) -> None:
    from tasks_core.automations.owned import trigger_json

    for i, trigger in enumerate(spec.triggers):
        _guarded(problems, position, spec, f"triggers.{i}", partial(trigger_json, trigger))


def _check_entry(position: int, spec: DeploymentSpec, base: Path
                 ) -> Deployment | list[EntryProblem]:
    """The deployment an entry makes, or every problem found in it."""
    problems: list[EntryProblem] = []
    flow = _load_flow(position, spec, base, problems)
    for field, check in _schedule_checks(spec):
        _guarded(problems, position, spec, field, check)
    if flow is None:
        return problems
    _guarded(problems, position, spec, "parameters",
             lambda: flow.parameters.check_partial(spec.parameters))
    _trigger_checks(problems, position, spec)
    if problems:
        return problems
    deployment = _guarded(problems, position, spec, "entry", lambda: flow.to_deployment(
        spec.name, work_pool_name=spec.work_pool, work_queue_name=spec.work_queue,
        parameters=spec.parameters, cron=spec.cron,
        interval=timedelta(seconds=spec.interval) if spec.interval else None,
        rrule=spec.rrule, timezone=spec.timezone, schedules=spec.schedules,
        catchup=spec.catchup, tags=spec.tags, paused=spec.paused,
        description=spec.description, version=spec.version, triggers=spec.triggers))
    return problems if deployment is None else deployment


def _duplicates(checked: list[tuple[int, CheckedDeployment]]) -> list[EntryProblem]:
    first: dict[str, int] = {}
    problems = []
    for position, item in checked:
        full = item.deployment.full_name
        if full in first:
            problems.append(EntryProblem(
                position, item.spec.name, "name",
                f"makes deployment {full!r} again (entry {first[full]} makes it already)"))
        else:
            first[full] = position
    return problems


def check_file(path: Path) -> list[CheckedDeployment]:
    """Every deployment of the file, each checked; nothing is registered.

    Sources are relative to the file's folder. Entrypoints are imported (user code runs).

    Raises:
        ConfigurationError: the file cannot be read, is not YAML or not shaped
            ``deployments: [...]``.
        DeploymentFileError: one or more entries are wrong; its message has one line per
            problem naming the entry (position and name) and the field.
    """
    base = path.resolve().parent
    problems: list[EntryProblem] = []
    checked: list[tuple[int, CheckedDeployment]] = []
    for position, raw in enumerate(_read(path), start=1):
        spec, found = _parse(position, raw)
        problems += found
        if spec is None:
            continue
        outcome = _check_entry(position, spec, base)
        if isinstance(outcome, list):
            problems += outcome
        elif not found:
            checked.append((position, CheckedDeployment(spec, outcome)))
    problems += _duplicates(checked)
    if problems:
        raise DeploymentFileError(path, sorted(problems, key=lambda p: p.position))
    return [item for _, item in checked]


def register_all(checked: Sequence[CheckedDeployment]) -> list[str]:
    """Register (create or update) checked deployments, in file order; their ids."""
    from tasks_core.deployments import deploy

    return deploy(*(item.deployment for item in checked))
