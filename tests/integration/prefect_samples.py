"""Tasks and flows the Prefect-module tests run on workers (imported by them by name)."""

from __future__ import annotations

from typing import Any

from tasks_core import flow, task
from tasks_core.context import FlowRunContext, TaskRunContext, get_run_context
from tasks_core.runtime import deployment, flow_run, task_run


@task(tags=["own"])
def runtime_facts(x: int) -> dict[str, Any]:
    """What a task run sees of itself and of its flow run."""
    context = get_run_context()
    return {"task_run_id": task_run.id, "task_run_name": task_run.name,
            "task_name": task_run.task_name, "task_parameters": task_run.parameters,
            "task_tags": task_run.tags, "flow_run_id": flow_run.id,
            "flow_parameters": flow_run.parameters,
            "context": type(context).__name__,
            "context_run_id": context.task_run.id if isinstance(context, TaskRunContext)
            else None}


@flow
def deployed_facts(day: str, n: int = 2) -> dict[str, Any]:
    """What a deployment's flow run sees of itself, its deployment and a task in it."""
    context = get_run_context()
    return {"flow_run_id": flow_run.id, "flow_name": flow_run.flow_name,
            "parameters": flow_run.parameters, "deployment_id": flow_run.deployment_id,
            "deployment_name": deployment.name, "deployment_parameters": deployment.parameters,
            "flow_tags": flow_run.tags,
            "scheduled": flow_run.scheduled_start_time.isoformat(),
            "context": type(context).__name__,
            "context_run_id": context.flow_run.id if isinstance(context, FlowRunContext)
            else None,
            "task": runtime_facts(n)}


@task(task_run_name="slow-{seconds}")
def slow(seconds: float) -> str:
    """Sleeps; its with_options copies change the timeout, name and tags."""
    import time

    time.sleep(seconds)
    return "done"


@task
def flaky(key: str) -> int:
    """Fails its first attempt per key (a counter in Redis, shared with the worker)."""
    from tasks_core.process_runtime import get_runtime

    rt = get_runtime()
    count = int(rt.client.incr(f"{rt.settings.key_prefix}:test-counter:{key}"))
    if count == 1:
        raise RuntimeError("first attempt fails")
    return count


@task(persist_result=False)
def unpersisted(x: int) -> int:
    return x * 2


@task(result_storage=".results-unused")
def big(n: int) -> list[int]:
    """A result of about 7n bytes of JSON."""
    return list(range(100_000, 100_000 + n))


@flow(flow_run_name="env-{label}")
def read_env(label: str) -> dict[str, Any]:
    """The job_variables environment as the deployed run sees it."""
    import os

    return {"greeting": os.environ.get("TC_TEST_GREETING"),
            "other": os.environ.get("TC_TEST_OTHER"), "name": flow_run.name}
