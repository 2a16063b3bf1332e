"""Pausing flow runs for input and resuming them (`tasks_core.flow_runs`), on a real Redis:
in this process (the body blocks, the run is Paused), and suspended deployment runs on a
real worker (the slot is freed; a resume runs the flow again on a worker)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic
import pytest

from beat import sweeper
from tasks_core import flow, pause_flow_run
from tasks_core.errors import InvalidTransition, TaskCancelled, ValidationError
from tasks_core.flow_runs import PauseError, PauseTimeout, resume_flow_run
from tasks_core.pausing import PAUSE_GRACE_SECONDS
from tasks_core.process_runtime import get_runtime
from tasks_core.run_event_codec import entry_text
from tasks_core.states import StateName
from tests.helpers import wait_until
from tests.integration import pause_flows as p
from tests.integration import sample_tasks as t

S = StateName


def _in_thread(fn: Any, *args: Any) -> Future[Any]:
    """Call `fn` in a thread (a paused flow blocks its caller); its future."""
    result: Future[Any] = Future()

    def call() -> None:
        try:
            result.set_result(fn(*args))
        except BaseException as exc:
            result.set_exception(exc)

    threading.Thread(target=call, daemon=True).start()
    return result


def _paused_run() -> str:
    """The id of the flow run started last here, once it is Paused."""
    run_id: str = wait_until(lambda: p.started[-1] if p.started else None, timeout=10)
    wait_until(lambda: get_runtime().store.state_of(run_id) == S.PAUSED, timeout=10,
               message="the flow run to be Paused")
    return run_id


def _states(run_id: str) -> list[str]:
    get_runtime().reporter.flush()
    return [h.name for h in get_runtime().store.get(run_id).history]


def _events(tc_env: dict[str, Any], run_id: str) -> list[str]:
    import json

    raw = tc_env["client"].xrange(f"{tc_env['prefix']}:events")
    events = [json.loads(entry_text(fields) or "") for _, fields in raw]
    return [e["event"] for e in events
            if e["resource"]["tasks-core.resource.id"] == f"tasks-core.flow-run.{run_id}"]


def test_a_paused_flow_waits_and_goes_on_with_the_validated_input(
        tc_env: dict[str, Any]) -> None:
    p.started.clear()
    result = _in_thread(p.approval_flow, 21)
    run_id = _paused_run()
    time.sleep(0.3)
    assert not result.done()  # the body blocks while Paused
    assert "tasks-core.flow-run.Paused" in _events(tc_env, run_id)
    resume_flow_run(run_id, run_input={"approved": True, "note": "ok"})
    assert result.result(timeout=15) == {"prepared": 42, "approved": True, "note": "ok"}
    assert _states(run_id) == [S.RUNNING, S.PAUSED, S.RUNNING, S.COMPLETED]
    with pytest.raises(InvalidTransition, match="not paused"):
        resume_flow_run(run_id)


def test_a_bad_input_is_refused_and_the_run_stays_paused(tc_env: dict[str, Any]) -> None:
    p.started.clear()
    result = _in_thread(p.approval_flow, 1)
    run_id = _paused_run()
    with pytest.raises(pydantic.ValidationError, match="approved"):
        resume_flow_run(run_id, run_input={"approved": "maybe"})
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        resume_flow_run(run_id, run_input={"approved": True, "nope": 1})
    assert get_runtime().store.state_of(run_id) == S.PAUSED and not result.done()
    resume_flow_run(run_id, run_input={"approved": False})
    assert result.result(timeout=15)["approved"] is False


def test_a_pause_without_input_refuses_input_and_resumes_with_none(
        tc_env: dict[str, Any]) -> None:
    p.started.clear()
    result = _in_thread(p.plain_pause)
    run_id = _paused_run()
    with pytest.raises(ValidationError, match="not waiting for input"):
        resume_flow_run(run_id, run_input={"x": 1})
    resume_flow_run(run_id)
    assert result.result(timeout=15) == "went on"


def test_no_resume_within_the_timeout_fails_the_run(tc_env: dict[str, Any]) -> None:
    p.started.clear()
    with pytest.raises(PauseTimeout, match="not resumed within 1 s"):
        p.approval_flow(3, timeout=1)
    run_id = p.started[-1]
    assert _states(run_id)[-3:] == [S.PAUSED, S.RUNNING, S.FAILED]
    with pytest.raises(InvalidTransition, match="is Failed, not paused"):
        resume_flow_run(run_id, run_input={"approved": True})


def test_the_sweeper_fails_a_pause_whose_process_is_gone(tc_env: dict[str, Any]) -> None:
    """A pause left open (its process died): beat's sweeper ends it after the grace."""
    from tasks_core.pausing import Pause, open_pause

    rt = get_runtime()
    p.started.clear()
    result = _in_thread(p.plain_pause, 3600)
    run_id = _paused_run()
    rt.pauses.take(run_id)  # as if its process had died: reopen it with a past deadline
    past = datetime.now(UTC) - timedelta(seconds=1)
    rt.pauses.open(run_id, Pause(run_id=run_id, key="k", timeout_seconds=1,
                                 deadline=past).model_dump_json(), past.timestamp())
    assert open_pause  # the helper the SDK uses; here the record is written directly
    report = sweeper.tick(rt, datetime.now(UTC) + timedelta(seconds=PAUSE_GRACE_SECONDS))
    assert report.pauses_expired == [run_id]
    assert get_runtime().store.get(run_id).state == S.FAILED
    assert "timed out" in get_runtime().store.get(run_id).state_message
    with pytest.raises(PauseTimeout, match="ended Failed while paused"):
        result.result(timeout=15)


def test_pausing_outside_a_flows_body_is_refused(tc_env: dict[str, Any]) -> None:
    from tasks_core.flow_runs import pause_flow_run, suspend_flow_run

    with pytest.raises(PauseError, match="here: no run"):
        pause_flow_run()
    with pytest.raises(PauseError, match="here: a task run"):
        p.pausing_task_flow()
    with pytest.raises(ValidationError, match="pydantic model class"):
        pause_flow_run(wait_for_input=dict)  # type: ignore[type-var]
    with pytest.raises(ValidationError, match="positive number of seconds"):
        suspend_flow_run(timeout=0)


def test_cancelling_a_paused_run_ends_it_and_its_wait(tc_env: dict[str, Any]) -> None:
    from tasks_core.engine.cancel import cancel_run

    p.started.clear()
    result = _in_thread(p.plain_pause, 3600)
    run_id = _paused_run()
    assert cancel_run(run_id) == S.CANCELLED
    with pytest.raises(TaskCancelled):
        result.result(timeout=15)
    assert get_runtime().store.state_of(run_id) == S.CANCELLED
    with pytest.raises(InvalidTransition, match="is Cancelled, not paused"):
        resume_flow_run(run_id)
    assert get_runtime().pauses.get(run_id) is None


def test_a_suspended_run_frees_its_worker_and_runs_again_on_resume(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    from tasks_core.deployments import run_deployment

    p.suspending_flow.deploy("approve", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1, pool=tc_env["queue"])
    run = run_deployment("suspending-flow/approve", parameters={"n": 5}, timeout=0)
    wait_until(lambda: get_runtime().store.state_of(run.id) == S.PAUSED, timeout=30,
               message="the suspended run to be Paused")
    assert t.add.delay(1, 2).result(timeout=30) == 3  # its one slot is free again
    with pytest.raises(pydantic.ValidationError):
        resume_flow_run(run.id, run_input={})
    resume_flow_run(run.id, run_input={"approved": True})
    wait_until(lambda: get_runtime().store.state_of(run.id) == S.COMPLETED, timeout=30,
               message="the resumed run to complete")
    rt = get_runtime()
    assert rt.store.result_json(run.id) == '{"prepared":10,"approved":true}'
    assert _states(run.id) == [S.PENDING, S.RUNNING, S.PAUSED, S.PENDING, S.RUNNING,
                               S.COMPLETED]
    prepared = [r for r in rt.store.get_many(rt.store.children(run.id)) if r.name == "prepare"]
    assert sorted(r.state for r in prepared) == [S.CACHED, S.COMPLETED]  # not run again


def test_suspending_a_flow_without_a_deployment_is_refused(tc_env: dict[str, Any]) -> None:
    with pytest.raises(PauseError, match="has no deployment"):
        p.suspending_flow(1)


@flow
async def async_pause() -> bool:
    approval = await pause_flow_run(wait_for_input=p.Approval, timeout=30)  # type: ignore[misc]
    assert approval is not None
    return approval.approved


def test_an_async_flow_awaits_its_pause_without_blocking_its_loop(
        tc_env: dict[str, Any]) -> None:
    import asyncio

    async def main() -> tuple[bool, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        ticker = asyncio.create_task(tick())
        flow_run = asyncio.create_task(async_pause())
        run_id = await asyncio.to_thread(lambda: _wait_paused_async_run())
        before = ticks
        await asyncio.sleep(0.3)  # the flow is paused: the loop must keep ticking meanwhile
        while_paused = ticks - before
        await resume_flow_run(run_id, run_input={"approved": True})  # type: ignore[misc]
        approved = await flow_run
        ticker.cancel()
        return approved, while_paused

    approved, ticks = asyncio.run(main())
    assert approved is True and ticks > 0  # the loop kept running while the flow waited


def _wait_paused_async_run() -> str:
    rt = get_runtime()

    def paused() -> str | None:
        rt.reporter.flush()
        ids = rt.store.list_ids("flow", limit=1)
        return ids[0] if ids and rt.store.state_of(ids[0]) == S.PAUSED else None

    found: str = wait_until(paused, timeout=15, message="the async flow run to be Paused")
    return found
