"""States as objects (issue 15 item 2) on a real Redis and real worker processes:
`future.state`, `return_state=True` and `run_deployment(...).state` give a `State` that
has Prefect's methods and also equals its StateName and its Celery name; a body that
returns a State ends in it."""

from __future__ import annotations

from typing import Any

import pytest

from tasks_core import FailedRun, StateName
from tasks_core.deployments import run_deployment
from tasks_core.states import State, StateType
from tests.integration import futures_tasks as ft

S = StateName
IMPORTS = ("tests.integration.futures_tasks",)


def test_future_state_of_a_worker_run_is_a_state(tc_env: dict[str, Any],
                                                 start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    done, failed = ft.add.delay(2, 3), ft.boom.delay("nope")
    done.wait(30), failed.wait(30)
    state = done.state
    assert isinstance(state, State) and state.is_completed() and state.is_final()
    assert state.name == "Completed" and state.type is StateType.COMPLETED
    assert state == S.COMPLETED and state == "SUCCESS" and state.run_id == done.id
    assert state.result() == 5 and state.timestamp is not None
    bad = failed.state
    assert bad.is_failed() and bad == "FAILURE" and bad == S.FAILED
    assert bad.message == "ValueError: nope" and bad.error and bad.error.type == "ValueError"
    assert isinstance(bad.result(raise_on_failure=False), ValueError)
    with pytest.raises(ValueError, match="nope"):
        bad.result()


def test_a_pending_run_state_has_no_result_yet(tc_env: dict[str, Any]) -> None:
    future = ft.add.delay(1, 1)  # no worker: it stays Pending
    state = future.state
    assert state.is_pending() and state == "PENDING" and not state.is_final()
    with pytest.raises(Exception, match="no result yet"):
        state.result()


def test_tasks_returning_states_on_a_worker(tc_env: dict[str, Any],
                                            start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    refused, fine = ft.returns_failed.delay("bad input"), ft.returns_completed.delay(4)
    assert fine.result(timeout=30) == 8 and fine.state.is_completed()
    refused.wait(30)
    assert refused.state.is_failed() and refused.state.message == "bad input"
    assert refused.record().attempt == 1  # not retried
    with pytest.raises(FailedRun, match="bad input"):
        refused.result()


def test_a_flow_returning_failed_ends_failed_in_process(tc_env: dict[str, Any]) -> None:
    state = ft.validating_flow(-1, return_state=True)
    assert isinstance(state, State) and state.is_failed()
    assert state.message == "n must be >= 0, got -1" and state == "FAILURE"
    with pytest.raises(FailedRun, match="n must be >= 0"):
        ft.validating_flow(-2)
    ok = ft.validating_flow(2, return_state=True)
    assert ok.is_completed() and ok.result() == 3 and ok.data == 3


def test_run_deployment_state_is_a_state(tc_env: dict[str, Any], start_worker: Any) -> None:
    ft.deployed_failing.deploy("refuse", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1, imports=IMPORTS)
    run = run_deployment("deployed-failing/refuse", parameters={"n": 3}, timeout=30)
    assert isinstance(run.state, State) and run.state.is_failed()
    assert run.state.name == "Failed" and run.state.message == "refused 3"
    assert run.state == S.FAILED and run.state == "FAILURE"
    with pytest.raises(FailedRun, match="refused 3"):
        run.state.result()


def test_a_task_call_with_return_state(tc_env: dict[str, Any]) -> None:
    done = ft.add(1, 2, return_state=True)
    assert isinstance(done, State) and done.is_completed() and done.result() == 3
    assert done == "SUCCESS" and done.run_id
    failed = ft.boom("no", return_state=True)  # the exception is in the state, not raised
    assert failed.is_failed() and failed.message == "ValueError: no"
    assert isinstance(failed.result(raise_on_failure=False), ValueError)
    assert ft.add(1, 2, return_state=False) == 3


def test_an_async_task_call_with_return_state(tc_env: dict[str, Any]) -> None:
    import asyncio

    state = asyncio.run(ft.async_add(2, 2, return_state=True))
    assert isinstance(state, State) and state.is_completed() and state.result() == 4
