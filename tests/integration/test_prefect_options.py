"""Prefect's options (issue 15, item 4): with_options, run names, persist_result,
result_storage, flow.from_source on the decorator, job_variables and image=; in process
and on real workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tasks_core import StateName, flow, task
from tasks_core.deployments import run_deployment
from tasks_core.errors import ConfigurationError, ResultError
from tasks_core.filesystems import LocalFileSystem
from tasks_core.process_runtime import get_runtime, reset_runtime
from tasks_core.registry import resolve
from tasks_core.runtime import flow_run, task_run
from tasks_core.settings import reset_settings
from tests.helpers import run_cli, wait_until
from tests.integration import prefect_samples as ps

SAMPLES = ("tests.integration.prefect_samples",)


def _record(run_id: str) -> Any:
    rt = get_runtime()
    rt.reporter.flush()
    return rt.store.get(run_id)


def test_task_with_options_in_process_leaves_the_original(tc_env: dict[str, Any]) -> None:
    retrying = ps.flaky.with_options(retries=1, name="flaky-retrying", tags=["copy"])
    assert retrying("k1") == 2  # failed once, retried once
    assert ps.flaky.retries == 0 and ps.flaky.name == "flaky"
    assert resolve(ps.flaky.key) is ps.flaky  # the address still resolves to the original
    with pytest.raises(RuntimeError, match="first attempt fails"):
        ps.flaky("k2")  # the original does not retry
    with pytest.raises(ConfigurationError, match="unknown option 'retriez'"):
        ps.flaky.with_options(retriez=1)
    with pytest.raises(ConfigurationError, match="retries must be >= 0"):
        ps.flaky.with_options(retries=-1)


def test_with_options_copies_run_on_a_worker(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1, imports=SAMPLES)
    retrying = ps.flaky.with_options(retries=1, retry_delay_seconds=0, tags=["copy"])
    future = retrying.delay("w1")
    assert future.result(timeout=30) == 2
    record = _record(future.id)
    assert record.attempt == 2 and record.tags == ["copy"]
    timed = ps.slow.with_options(timeout_seconds=0.5, task_run_name="quick-{seconds}")
    stopped = timed.delay(3)
    wait_until(lambda: _record(stopped.id).is_terminal, 30, 0.1, "the copy to time out")
    record = _record(stopped.id)
    assert record.state == StateName.TIMED_OUT, record.state_message
    assert record.task_run_name == "quick-3" and record.name == "slow"


def test_run_names_from_templates_and_callables(tc_env: dict[str, Any]) -> None:
    @task(task_run_name="add-{x}-{y}")
    def add(x: int, y: int = 7) -> str:
        return task_run.name

    def named(parameters: dict[str, Any]) -> str:
        return f"sum-of-{len(parameters['xs'])}"

    @task(task_run_name=named)
    def total(xs: list[int]) -> str:
        return task_run.name

    @flow(flow_run_name=lambda: "nightly-run")
    def nightly() -> tuple[str, str, str, str]:
        return flow_run.name, flow_run.flow_name, add(1), total([1, 2, 3])

    assert nightly() == ("nightly-run", "nightly", "add-1-7", "sum-of-3")
    rt = get_runtime()
    rt.reporter.flush()
    flow_id = rt.store.list_ids("flow", limit=1)[0]
    shown = run_cli(tc_env["env"], "flow-run", "inspect", flow_id)
    assert shown.returncode == 0, shown.stderr
    assert "Run name" in shown.stdout and "nightly-run" in shown.stdout
    task_id = next(r.id for r in rt.store.get_many(rt.store.children(flow_id))
                   if r.name == "add")
    shown = run_cli(tc_env["env"], "task-run", "inspect", task_id)
    assert "add-1-7" in shown.stdout, shown.stdout + shown.stderr
    with pytest.raises(ConfigurationError, match="names 'z', which is not a parameter"):
        task(lambda x: x, task_run_name="t-{z}")

    @task(task_run_name=lambda: 42)  # type: ignore[arg-type, return-value]
    def bad() -> None:
        return None

    before = rt.store.list_ids("task", limit=1000)
    with pytest.raises(ConfigurationError, match="task_run_name must give a non-empty str"):
        bad()
    rt.reporter.flush()
    assert rt.store.list_ids("task", limit=1000) == before  # no run left behind


def test_persist_result(tc_env: dict[str, Any], start_worker: Any) -> None:
    assert ps.unpersisted(4) == 8  # in process the value still comes back
    start_worker(concurrency=1, imports=SAMPLES)
    future = ps.unpersisted.delay(5)
    future.wait()
    assert future.state == StateName.COMPLETED
    with pytest.raises(ResultError, match="not persisted"):
        future.result(timeout=10)
    calls: list[int] = []

    @task(persist_result=True)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @flow
    def twice() -> list[int]:
        return [square(2), square(2)]

    assert twice() == [4, 4] and calls == [2]  # persist_result=True: the DEFAULT policy
    with pytest.raises(ConfigurationError, match="persist_result=False cannot cache"):
        task(lambda x: x, persist_result=False, cache_policy="inputs")


def test_result_storage_takes_results_over_the_limit(
        tc_env: dict[str, Any], start_worker: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_RESULT_MAX_BYTES", "2000")
    tc_env["env"]["TASKS_CORE_RESULT_MAX_BYTES"] = "2000"
    reset_settings()
    reset_runtime()
    stored = ps.big.with_options(result_storage=LocalFileSystem(basepath=tmp_path))
    start_worker(concurrency=1, imports=SAMPLES)
    future = stored.delay(1000)
    assert future.result(timeout=30) == list(range(100_000, 101_000))
    assert (tmp_path / f"{future.id}.json").stat().st_size > 2000
    refused = ps.big.with_options(result_storage=None).delay(1000)
    refused.wait()
    assert refused.state == StateName.FAILED
    assert "over the limit of 2000" in _record(refused.id).state_message
    with pytest.raises(ConfigurationError, match="cloud buckets are not offered"):
        task(lambda: 1, result_storage="s3://bucket/results")


def test_from_source_job_variables_and_image(tc_env: dict[str, Any], start_worker: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).resolve().parents[2]
    loaded = flow.from_source(source=str(root),
                              entrypoint="tests/integration/prefect_samples.py:read_env")
    loaded.deploy("env", work_pool_name=tc_env["queue"], parameters={"label": "a"},
                  job_variables={"env": {"TC_TEST_GREETING": "hello",
                                         "TC_TEST_OTHER": "dep"}})
    start_worker(concurrency=1, pool=tc_env["queue"], imports=SAMPLES)
    run = run_deployment("read-env/env", timeout=60)
    assert run.state == StateName.COMPLETED, run.state_message
    assert run.result() == {"greeting": "hello", "other": "dep", "name": "env-a"}
    again = run_deployment("read-env/env", timeout=60,
                           job_variables={"env": {"TC_TEST_OTHER": "run"}})
    assert again.result()["other"] == "run" and again.result()["greeting"] == "hello"
    assert "TC_TEST_GREETING" not in os.environ
    with pytest.raises(ConfigurationError, match="no container images"):
        loaded.deploy("img", work_pool_name=tc_env["queue"], image="me/etl:1")
    with pytest.raises(ConfigurationError, match="only job variable is 'env'"):
        loaded.deploy("img", work_pool_name=tc_env["queue"], job_variables={"cpu": 2})
    with pytest.raises(ConfigurationError, match="TASKS_CORE_"):
        run_deployment("read-env/env", timeout=0,
                       job_variables={"env": {"TASKS_CORE_REDIS_URL": "x"}})
