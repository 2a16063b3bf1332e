"""Prefect's module paths: cache policies, tasks_core.runtime, get_run_context and tags,
in process and on real workers (issue 15, item 1)."""

from __future__ import annotations

from typing import Any

import pytest

from tasks_core import StateName, flow, tags, task
from tasks_core.cache_policies import DEFAULT, FLOW_PARAMETERS, INPUTS, NONE, TASK_SOURCE
from tasks_core.context import MissingContextError, TaskRunContext, get_run_context
from tasks_core.deployments import run_deployment
from tasks_core.process_runtime import get_runtime
from tasks_core.runtime import deployment, flow_run, task_run
from tasks_core.tasks import task_input_hash
from tests.integration import prefect_samples as ps


def _children_states(flow_run_id: str) -> list[StateName]:
    rt = get_runtime()
    rt.reporter.flush()
    return [r.state for r in rt.store.get_many(rt.store.children(flow_run_id))]


def test_default_policy_caches_within_one_flow_run_only(tc_env: dict[str, Any]) -> None:
    calls: list[int] = []

    @task(cache_policy=DEFAULT)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @flow
    def twice() -> tuple[list[int], str | None]:
        return [square(3), square(3), square(4)], flow_run.id

    values, first_id = twice()
    assert values == [9, 9, 16] and calls == [3, 4]
    assert first_id is not None
    assert _children_states(first_id) == [StateName.COMPLETED, StateName.CACHED,
                                          StateName.COMPLETED]
    twice()  # RUN_ID is part of DEFAULT: another flow run computes again
    assert calls == [3, 4, 3, 4]


def test_inputs_minus_a_name_source_and_flow_parameters(tc_env: dict[str, Any]) -> None:
    calls: list[str] = []

    @task(cache_policy=(INPUTS - "debug") + TASK_SOURCE)
    def fetch(url: str, debug: bool = False) -> str:
        calls.append(url)
        return url.upper()

    assert fetch("a", debug=False) == "A" and fetch("a", debug=True) == "A"
    assert calls == ["a"]  # debug is left out of the key

    @task(cache_policy=FLOW_PARAMETERS)
    def stamp(label: str) -> str:
        calls.append(label)
        return label

    @flow
    def outer(region: str) -> list[str]:
        return [stamp("x"), stamp("y")]  # same flow parameters: the second is a hit

    assert outer("eu") == ["x", "x"]
    assert calls == ["a", "x"]
    assert outer("us") == ["x", "x"]  # other flow parameters: another key
    assert calls == ["a", "x", "x"]


def test_none_policy_and_cache_key_fn_with_prefect_context(tc_env: dict[str, Any]) -> None:
    calls: list[int] = []

    @task(cache_policy=NONE)
    def never(x: int) -> int:
        calls.append(x)
        return x

    never(1)
    never(1)
    assert calls == [1, 1]

    def by_task_name(context: Any, parameters: dict[str, Any]) -> str:
        return f"{context.task.name}-{parameters['x']}"

    @task(cache_key_fn=by_task_name)
    def named(x: int) -> int:
        calls.append(x)
        return x

    @task(cache_key_fn=task_input_hash)
    def hashed(x: int) -> int:
        calls.append(x * 10)
        return x

    for call in (named, named, hashed, hashed):
        call(5 if call is named else 6)
    assert calls == [1, 1, 5, 60]


def test_runtime_and_context_in_process(tc_env: dict[str, Any]) -> None:
    @flow(tags=["mine"])
    def facts(day: str) -> dict[str, Any]:
        return {"flow": (flow_run.id, flow_run.name, flow_run.flow_name, flow_run.parameters,
                         flow_run.tags, deployment.id, deployment.parameters),
                "task": ps.runtime_facts(3),
                "context": type(get_run_context()).__name__}

    out = facts("mon")
    flow_id, name, flow_name, parameters, flow_tags, deployment_id, dep_parameters = out["flow"]
    assert (name, flow_name, parameters, flow_tags) == ("facts", "facts", {"day": "mon"},
                                                        ["mine"])
    assert deployment_id is None and dep_parameters == {}
    assert out["context"] == "FlowRunContext"
    inner = out["task"]
    assert inner["flow_run_id"] == flow_id and inner["flow_parameters"] == {"day": "mon"}
    assert inner["task_name"] == "runtime_facts" and inner["task_parameters"] == {"x": 3}
    assert inner["context"] == "TaskRunContext"
    assert inner["context_run_id"] == inner["task_run_id"] is not None


def test_runtime_outside_a_run_gives_prefects_empty_values() -> None:
    assert (flow_run.id, flow_run.name, flow_run.parameters, flow_run.tags) == (None, None,
                                                                                {}, [])
    assert flow_run.scheduled_start_time.tzinfo is not None
    assert (task_run.id, task_run.name, task_run.task_name, task_run.parameters) == (
        None, None, None, {})
    assert (deployment.id, deployment.name, deployment.parameters) == (None, None, {})
    with pytest.raises(MissingContextError, match="outside a flow or task run"):
        get_run_context()
    assert TaskRunContext.get() is None
    with pytest.raises(AttributeError, match="no attribute 'nme'"):
        _ = flow_run.nme


def test_tags_context_adds_to_runs_created_inside(tc_env: dict[str, Any]) -> None:
    @task(tags=["own"])
    def leaf() -> list[str]:
        return task_run.tags

    @flow
    def tree() -> tuple[list[str], list[str]]:
        with tags("inner"):
            inner = leaf()
        return flow_run.tags, inner

    with tags("a", "b") as current:
        assert current == {"a", "b"}
        flow_tags, leaf_tags = tree()
    assert flow_tags == ["a", "b"]
    assert leaf_tags == ["a", "b", "inner", "own"]
    with tags("c"):
        sent = leaf.delay()
    assert get_runtime().store.get(sent.id).tags == ["c", "own"]


def test_runtime_and_context_on_a_worker(tc_env: dict[str, Any], start_worker: Any) -> None:
    ps.deployed_facts.deploy("facts", work_pool_name=tc_env["queue"],
                             parameters={"day": "tue"}, tags=["dep"])
    start_worker(concurrency=1, pool=tc_env["queue"],
                 imports=("tests.integration.prefect_samples",))
    run = run_deployment("deployed-facts/facts", parameters={"n": 4}, timeout=60)
    assert run.state == StateName.COMPLETED, run.state_message
    out = run.result()
    assert out["flow_run_id"] == run.id and out["deployment_id"] == run.deployment_id
    assert out["flow_name"] == "deployed-facts" and out["deployment_name"] == "facts"
    assert out["parameters"] == {"day": "tue", "n": 4} == out["deployment_parameters"]
    assert out["flow_tags"] == ["dep"] and out["context"] == "FlowRunContext"
    assert out["context_run_id"] == run.id
    assert out["task"]["flow_run_id"] == run.id
    assert out["task"]["task_parameters"] == {"x": 4}

    alone = ps.runtime_facts.delay(7).result(timeout=30)
    assert alone["task_name"] == "runtime_facts" and alone["task_parameters"] == {"x": 7}
    assert alone["task_tags"] == ["own"] and alone["flow_run_id"] is None
    assert alone["context"] == "TaskRunContext" and alone["context_run_id"] is not None


def test_run_count_follows_retries(tc_env: dict[str, Any]) -> None:
    seen: list[int] = []

    @task(retries=1)
    def twice() -> int:
        seen.append(task_run.run_count)
        if len(seen) == 1:
            raise RuntimeError("first attempt fails")
        return task_run.run_count

    @flow
    def outer() -> tuple[int, int]:
        return twice(), flow_run.run_count

    assert outer() == (2, 1) and seen == [1, 2]
    assert task_run.run_count == 0  # outside a run
