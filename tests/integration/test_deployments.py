"""Deployments and run_deployment against real Redis and real workers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tasks_core import ParameterError, StateName
from tasks_core.deployments import deployment_store, run_deployment
from tasks_core.errors import ConfigurationError, DeploymentNotFound
from tasks_core.process_runtime import get_runtime
from tests.integration import sample_flows as f

S = StateName


def _deploy(tc_env: dict[str, Any], **options: Any) -> str:
    return f.pipeline.deploy("my-first-managed-deployment", work_pool_name=tc_env["queue"],
                             **options)


def test_run_deployment_runs_the_flow_on_a_worker(tc_env: dict[str, Any],
                                                  start_worker: Any) -> None:
    _deploy(tc_env, parameters={"lon": 5})
    start_worker(concurrency=1, pool=tc_env["queue"])
    run = run_deployment("pipeline/my-first-managed-deployment", parameters={"lat": "2"},
                         timeout=30)
    assert run.state == S.COMPLETED
    assert run.result() == {"lat": 2.0, "lon": 5.0, "sum": 7}
    assert run.parameters == {"lon": 5, "lat": "2"} and run.deployment_id
    [task_run] = get_runtime().store.get_many(get_runtime().store.children(run.id))
    assert task_run.name == "add" and task_run.parent_flow_run_id == run.id


def test_names_parameters_and_schedules_are_checked(tc_env: dict[str, Any]) -> None:
    _deploy(tc_env)
    with pytest.raises(DeploymentNotFound, match="did you mean 'pipeline/my-first-managed"):
        run_deployment("pipeline/my-first-managed", timeout=0)
    with pytest.raises(ParameterError, match="lat: required parameter missing"):
        run_deployment("pipeline/my-first-managed-deployment", timeout=0)
    with pytest.raises(ParameterError, match="lat: Input should be a valid number"):
        run_deployment("pipeline/my-first-managed-deployment", parameters={"lat": "north"},
                       timeout=0)
    with pytest.raises(ParameterError, match=r"parameters must be a dict .* got list"):
        run_deployment("pipeline/my-first-managed-deployment",
                       parameters=[1, 2],  # type: ignore[arg-type]
                       timeout=0)
    assert get_runtime().store.list_ids("flow") == []  # nothing was created
    with pytest.raises(ConfigurationError, match="invalid cron"):
        _deploy(tc_env, cron="61 * * * *")
    with pytest.raises(ConfigurationError, match="unknown time zone"):
        _deploy(tc_env, cron="0 * * * *", timezone="Mars/Olympus")
    with pytest.raises(ParameterError, match="lat"):
        _deploy(tc_env, parameters={"lat": "north"})
    with pytest.raises(ParameterError, match=r"parameters must be a dict .* got list"):
        _deploy(tc_env, parameters=[1.0])


@pytest.mark.parametrize(("options", "fragment"), [
    ({"work_pool_name": "my pool!"}, "work_pool_name 'my pool!' has ' ' and '!'"),
    ({"work_pool_name": "etl", "work_queue_name": "hi gh"}, "work_queue_name 'hi gh'"),
])
def test_a_pool_or_queue_name_no_worker_can_serve_is_refused(
        tc_env: dict[str, Any], options: dict[str, str], fragment: str) -> None:
    """As `work-pool create`, `worker --pool` and a deployments file refuse it: before,
    `.deploy()` took it and every run of the deployment stayed Pending."""
    from tasks_core.errors import ValidationError

    with pytest.raises(ValidationError, match=re.escape(fragment)):
        f.pipeline.deploy("bad-pool", **options)
    assert [d.name for d in deployment_store().list()] == []
    _deploy(tc_env)
    with pytest.raises(ValidationError, match=re.escape("work_queue_name 'hi gh'")):
        run_deployment("pipeline/my-first-managed-deployment", parameters={"lat": 1.0},
                       work_queue_name="hi gh", timeout=0)
    assert get_runtime().store.list_ids("flow") == []


def test_timeout_zero_and_idempotency(tc_env: dict[str, Any]) -> None:
    _deploy(tc_env)
    first = run_deployment("pipeline/my-first-managed-deployment", parameters={"lat": 1},
                           timeout=0, idempotency_key="k1")
    assert first.state == S.PENDING
    again = run_deployment("pipeline/my-first-managed-deployment", parameters={"lat": 1},
                           timeout=0, idempotency_key="k1")
    assert again.id == first.id
    assert len(get_runtime().store.list_ids("flow")) == 1


def test_flow_of_deployments_on_one_pool_of_concurrency_one(tc_env: dict[str, Any],
                                                            start_worker: Any) -> None:
    _deploy(tc_env)
    f.run_deployment_from_flow.deploy("outer", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1, pool=tc_env["queue"])
    run = run_deployment("run-deployment-from-flow/outer", timeout=60)
    assert run.state == S.COMPLETED and run.result() == 3.0
    store = get_runtime().store
    [placeholder] = store.get_many(store.children(run.id))
    [child] = store.get_many(store.children(placeholder.id))
    assert child.name == "pipeline" and child.parent_flow_run_id == run.id
    assert child.state == S.COMPLETED and placeholder.state == S.COMPLETED


def test_an_entrypoint_that_does_not_load_fails_the_run(tc_env: dict[str, Any],
                                                        start_worker: Any) -> None:
    deployment = deployment_store().get(_deploy(tc_env))
    deployment_store().save(deployment.model_copy(
        update={"entrypoint": "tests/integration/no_such_file.py:pipeline"}))
    start_worker(concurrency=1, pool=tc_env["queue"])
    run = run_deployment("pipeline/my-first-managed-deployment", parameters={"lat": 1},
                         timeout=30)
    assert run.state == S.FAILED and "no_such_file.py" in run.state_message
    f.pipeline.deploy("ok", work_pool_name=tc_env["queue"])
    assert run_deployment("pipeline/ok", parameters={"lat": 1}, timeout=30).state == S.COMPLETED


def test_course_run_deployment_example_across_two_pools(tc_env: dict[str, Any],
                                                        start_worker: Any) -> None:
    from tasks_core.engine.entrypoints import load_flow
    from tests.helpers import ROOT

    pool_a, pool_b = f"{tc_env['queue']}-a", f"{tc_env['queue']}-b"
    f.pipeline.deploy("my-first-managed-deployment", work_pool_name=pool_b)
    example = load_flow("examples/course/run_deployment_from_flow.py:run_deployment_from_flow",
                        str(ROOT))
    example.deploy("course", work_pool_name=pool_a, source=str(ROOT),
                   entrypoint="examples/course/run_deployment_from_flow.py:"
                              "run_deployment_from_flow")
    start_worker(concurrency=1, pool=pool_a)
    start_worker(concurrency=1, pool=pool_b)
    run = run_deployment("run-deployment-from-flow/course", timeout=60)
    assert run.state == S.COMPLETED
    store = get_runtime().store
    [placeholder] = store.get_many(store.children(run.id))
    [child] = store.get_many(store.children(placeholder.id))
    assert child.name == "pipeline" and child.state == S.COMPLETED
    assert run.worker and child.queue == pool_b and run.queue == pool_a
    assert child.owner != run.owner  # ran on the other pool's worker process


def _flow_pid(tc_env: dict[str, Any], key: str) -> int:
    from tests.helpers import wait_until

    return int(wait_until(lambda: tc_env["client"].get(f"{tc_env['prefix']}:pid:{key}"), 20,
                          message="the flow to start"))


def test_zombie_flow_runs_end_crashed(tc_env: dict[str, Any], start_worker: Any) -> None:
    import os
    import signal

    from beat import sweeper
    from tasks_core.store.runs import utcnow
    from tests.helpers import wait_until

    f.sleepy_flow.deploy("zzz", work_pool_name=tc_env["queue"])
    worker = start_worker(concurrency=1, pool=tc_env["queue"])
    store = get_runtime().store
    # a pool process killed mid-run: the redelivered message finds its owner dead
    first = run_deployment("sleepy-flow/zzz", parameters={"key": "z1"}, timeout=0)
    os.kill(_flow_pid(tc_env, "z1"), signal.SIGKILL)
    assert store.wait(first.id, 20) and store.get(first.id).state == S.CRASHED
    # the whole worker killed: heartbeats stop and beat's sweeper ends the run
    second = run_deployment("sleepy-flow/zzz", parameters={"key": "z2"}, timeout=0)
    _flow_pid(tc_env, "z2")
    worker.stop(signal.SIGKILL)
    rt = get_runtime()
    wait_until(lambda: second.id in sweeper.tick(rt, utcnow()).crashed, 15, 0.2,
               "the sweeper to end the zombie flow run")
    assert store.get(second.id).state == S.CRASHED


def test_to_deployment_deploy_and_serve(tc_env: dict[str, Any]) -> None:
    import threading

    from tasks_core.deployments import deploy

    first = f.pipeline.to_deployment("one", work_pool_name=tc_env["queue"],
                                     parameters={"lat": 1})
    second = f.pipeline.to_deployment("two", work_pool_name=tc_env["queue"],
                                      parameters={"lat": 2})
    assert deploy(first, second)
    assert {d.full_name for d in deployment_store().list()} == {"pipeline/one", "pipeline/two"}
    stop = threading.Event()
    server = threading.Thread(target=f.pipeline.serve, args=("served",),
                              kwargs={"stop": stop, "parameters": {"lat": 3}})
    server.start()
    try:
        from tests.helpers import wait_until

        wait_until(lambda: "pipeline/served" in {d.full_name for d in deployment_store().list()},
                   30, 0.1, "serve to register its deployment")
        run = run_deployment("pipeline/served", timeout=60)
        assert run.state == S.COMPLETED and run.result()["lat"] == 3.0
        assert deployment_store().get("pipeline/served").work_pool_name == "serve-pipeline"
    finally:
        stop.set()
        server.join(60)
