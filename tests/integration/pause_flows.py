"""Flows that pause or suspend for input (imported by worker processes in the tests)."""

from __future__ import annotations

from typing import Any

from tasks_core import flow, task
from tasks_core.engine.context import current_run
from tasks_core.flow_runs import pause_flow_run, suspend_flow_run
from tasks_core.input import RunInput

started: list[str] = []
"""Ids of the flow runs of this module started in this process (tests read them)."""


class Approval(RunInput):
    approved: bool
    note: str = ""


@task(cache_policy="inputs")
def prepare(n: int) -> int:
    return n * 2


@task
def in_a_task() -> None:
    pause_flow_run(timeout=5)


@flow
def approval_flow(n: int, timeout: float = 30) -> dict[str, Any]:
    frame = current_run.get()
    assert frame is not None
    started.append(frame.run_id)
    prepared = prepare(n)
    approval = pause_flow_run(wait_for_input=Approval, timeout=timeout)
    assert approval is not None
    return {"prepared": prepared, "approved": approval.approved, "note": approval.note}


@flow
def plain_pause(timeout: float = 30) -> str:
    frame = current_run.get()
    assert frame is not None
    started.append(frame.run_id)
    assert pause_flow_run(timeout=timeout, key="wait-here") is None
    return "went on"


@flow
def pausing_task_flow() -> None:
    in_a_task()


@flow
def suspending_flow(n: int) -> dict[str, Any]:
    prepared = prepare(n)
    approval = suspend_flow_run(wait_for_input=Approval, timeout=60)
    assert approval is not None
    return {"prepared": prepared, "approved": approval.approved}
