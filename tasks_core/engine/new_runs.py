"""Every new run record, built in one place: task runs, flow runs, placeholders, deployment
runs. Each is a `RunRecord` (the same model runs are read back as), linked to the run
executing in this context, with the options it inherits resolved now (see `run_options`).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any, Protocol

from tasks_core.engine.context import RunFrame
from tasks_core.engine.limits import with_global_limits
from tasks_core.errors import ConfigurationError
from tasks_core.events.run_events import automation_related, deployment_related, run_related
from tasks_core.records import RunKind, RunOptions, RunRecord, TriggeredBy
from tasks_core.run_names import render_run_name
from tasks_core.run_tags import with_current_tags
from tasks_core.settings import get_settings
from tasks_core.states import StateName, state_type
from tasks_core.store.runs import utcnow

__all__ = ["Definition", "deployment_run", "flow_run", "placeholder_run", "run_name",
           "run_options", "task_run"]

log = logging.getLogger("tasks_core.engine")


class Definition(Protocol):
    """What a run inherits from its task or flow."""

    name: str
    tags: list[str]
    log_prints: bool | None
    options: RunOptions


def run_options(definition: Definition, parent: RunFrame | None, *,
                cache_key: str | None = None) -> RunOptions:
    """The options a new run carries: its definition's, with what it inherits resolved.

    `log_prints` is the definition's own option, else the enclosing run's (a top-level run:
    off). The result is the definition's own object when nothing differs from it.
    """
    own = definition.log_prints
    log_prints = own if own is not None else bool(parent and parent.log_prints)
    base = definition.options
    if log_prints == base.log_prints and cache_key is None:
        return base
    return base.model_copy(update={"log_prints": log_prints, "cache_key": cache_key})


def run_name(task: Any, parameters_json: str) -> str | None:
    """A task run's own name from the task's `task_run_name` over the parameters as
    recorded; None: none given."""
    return _run_name(task, "task", parameters_json)


def _run_name(definition: Any, kind: str, parameters_json: str) -> str | None:
    """The run's own name from its definition's (a task's, a flow's, a deployment's)
    `task_run_name` / `flow_run_name` (`tasks_core.run_names`), over the parameters as
    recorded; None: none given."""
    option = f"{kind}_run_name"
    name = getattr(definition, option, None)
    if name is None:
        return None
    parameters = {**_defaults(definition), **json.loads(parameters_json)}
    deployment = getattr(definition, "full_name", None)
    if deployment is None:
        return render_run_name(f"{kind} {definition.name}", option, name, parameters)
    try:
        return render_run_name(deployment, option, name, parameters)
    except ConfigurationError as exc:  # a scheduled or triggered run still starts
        log.warning("deployment %s: run name not rendered (%s)", deployment, exc)
        return None


def _defaults(definition: Any) -> dict[str, Any]:
    """Parameter defaults a run name may use: the signature's, or a deployment's schema's."""
    spec = getattr(definition, "parameters", None)  # a task's or flow's ParameterSpec
    signature = getattr(spec, "signature", None)
    if signature is not None:
        return {n: p.default for n, p in signature.parameters.items()
                if p.default is not p.empty}
    properties = getattr(definition, "parameter_schema", {}).get("properties", {})
    return {n: p["default"] for n, p in properties.items()
            if isinstance(p, dict) and "default" in p}


def _links(parent: RunFrame | None) -> dict[str, Any]:
    if parent is None:
        return {}
    return {"parent_task_run_id": parent.run_id if parent.kind == "task" else None,
            "parent_flow_run_id": parent.flow_run_id}


def _here(owner: str, now: datetime) -> dict[str, Any]:
    """Fields of a run that starts now in this process (attempt 1, owned here)."""
    return {"attempt": 1, "owner": owner, "worker": owner.rpartition(":")[0],
            "start_time": now}


_PLAIN_DEFAULTS = {name: field.default for name, field in RunRecord.model_fields.items()
                   if not field.is_required() and field.default_factory is None}
_FACTORIES = {name: field.default_factory for name, field in RunRecord.model_fields.items()
              if field.default_factory is not None}
"""A field not given takes its plain default, or a fresh value from its factory, called here:
pydantic's own lookup of a factory inspects its signature each time, which costs more than
the rest of a run's creation."""
_FIELDS = tuple(RunRecord.model_fields)


def _record(kind: RunKind, name: str, state: StateName, **fields: Any) -> RunRecord:
    now = fields.pop("created", None) or utcnow()
    for key, make in _FACTORIES.items():  # RunRecord.built takes every field
        if fields.get(key) is None:
            fields[key] = make()  # type: ignore[call-arg]
    values = {**_PLAIN_DEFAULTS, **fields, "kind": kind, "name": name, "state": state,
              "state_type": state_type(state), "created": now}
    values["id"] = values.get("id") or str(uuid.uuid4())
    return RunRecord.built({name: values[name] for name in _FIELDS})


def task_run(task: Any, parameters_json: str, options: RunOptions, parent: RunFrame | None,
             *, state: StateName, owner: str | None = None, queue: str | None = None,
             priority: int = 0, scheduled_time: datetime | None = None,
             run_id: str | None = None, caused_by: str | None = None) -> RunRecord:
    """A run of `task` (a Task). With `owner` it starts now, in that process; else it is
    sent to `queue`. `caused_by`: the run whose end starts it (a canvas's previous step),
    its parent task run in the run tree, as Celery's parent_id."""
    links = _links(parent)
    if caused_by is not None:
        links = {**links, "parent_task_run_id": caused_by}
    now = utcnow()
    options = with_global_limits(options, get_settings())
    tags = with_current_tags(task.tags)
    return _record(
        "task", task.name, state, id=run_id, created=now, task_key=task.key,
        task_run_name=_run_name(task, "task", parameters_json),
        parameters_json=parameters_json, tags=tags, options=options, queue=queue,
        priority=priority, scheduled_time=scheduled_time,
        related=run_related(task_name=task.name, kind="task",
                            parent_flow_run_id=links.get("parent_flow_run_id"),
                            tags=tags),
        **links, **(_here(owner, now) if owner else {}))


def placeholder_run(parent: RunFrame, name: str, task_key: str, parameters_json: str,
                    tags: list[str], owner: str) -> RunRecord:
    """The task run standing in a parent run for a nested flow run (or a deployment run);
    its end mirrors the child's (see `engine.lifecycle.mirror`)."""
    now = utcnow()
    return _record(
        "task", name, StateName.RUNNING, created=now, task_key=task_key,
        parameters_json=parameters_json, tags=tags, **_links(parent),
        related=run_related(task_name=name, kind="task", parent_flow_run_id=parent.flow_run_id,
                            tags=tags),
        **_here(owner, now))


def flow_run(flow: Any, parameters_json: str, options: RunOptions, parent: RunFrame | None,
             placeholder_id: str | None, owner: str) -> RunRecord:
    """A run of `flow` (a Flow) starting now in this process."""
    now = utcnow()
    parent_flow = parent.flow_run_id if parent else None
    tags = with_current_tags(flow.tags)
    return _record(
        "flow", flow.name, StateName.RUNNING, created=now, parameters_json=parameters_json,
        tags=tags, options=options, flow_version=flow.version,
        flow_run_name=_run_name(flow, "flow", parameters_json),
        parent_flow_run_id=parent_flow, parent_task_run_id=placeholder_id,
        related=run_related(task_name=flow.name, kind="flow", parent_flow_run_id=parent_flow,
                            tags=tags),
        **_here(owner, now))


def deployment_run(deployment: Any, parameters_json: str, *, state: StateName, queue: str,
                   tags: list[str], scheduled_time: datetime | None,
                   flow_run_name: str | None, parent: RunFrame | None,
                   placeholder_id: str | None, run_id: str | None = None,
                   triggered_by: TriggeredBy | None = None) -> RunRecord:
    """A flow run of `deployment` (a Deployment), sent to `queue` (now or when due), with
    the flow's options as they were deployed. With `triggered_by` (an automation started
    it) its events also relate the automation (role ``automation``)."""
    parent_flow = parent.flow_run_id if parent else None
    related = run_related(task_name=deployment.flow_name, kind="flow",
                          parent_flow_run_id=parent_flow, tags=deployment.tags)
    related.append(deployment_related(deployment.id))
    if triggered_by is not None:
        related.append(automation_related(triggered_by.automation_id,
                                          triggered_by.automation_name))
    return _record(
        "flow", deployment.flow_name, state, id=run_id, parameters_json=parameters_json,
        options=deployment.run_options,
        tags=sorted(set(deployment.tags) | set(tags)), deployment_id=deployment.id,
        queue=queue, scheduled_time=scheduled_time,
        flow_run_name=flow_run_name or _run_name(deployment, "flow", parameters_json),
        parent_flow_run_id=parent_flow, parent_task_run_id=placeholder_id, related=related,
        triggered_by=triggered_by)
