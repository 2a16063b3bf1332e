"""``POST /api/flow_runs/{id}/resume``: resume a paused or suspended flow run with the input
its pause waits for (`tasks_core.pausing.resume_flow_run`).

Replies: 200 with the run's record; 404 for an unknown run (or a task run); 409 when it is
not paused (or was resumed meanwhile); 422 naming the fields when the input does not match
the pause's input model (the run stays Paused).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from tasks_core.api.run_routes import read_run
from tasks_core.pausing import resume_flow_run
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord

__all__ = ["ResumeRequest", "router"]

router = APIRouter(tags=["flow runs"])


class ResumeRequest(BaseModel):
    """The input of the resume (None: the pause waits for none)."""

    run_input: dict[str, Any] | None = Field(
        default=None, description="the fields of the pause's input model")


@router.post("/flow_runs/{run_id}/resume", response_model=RunRecord,
             operation_id="resume_flow_run",
             description="Resume a paused or suspended flow run with the input it waits for "
                         "(409 when it is not paused, 422 when the input does not match).")
def resume(run_id: str = Path(..., max_length=200),
           request: ResumeRequest | None = None) -> RunRecord:
    read_run("flow", run_id)
    resume_flow_run(run_id, run_input=(request or ResumeRequest()).run_input)
    get_runtime().reporter.flush()
    return get_runtime().store.get(run_id)
