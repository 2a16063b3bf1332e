"""`RunInput`: the base of input models a paused flow waits for (Prefect's `prefect.input`).

    from tasks_core.flow_runs import pause_flow_run
    from tasks_core.input import RunInput

    class Approval(RunInput):
        approved: bool
        note: str = ""

    approval = pause_flow_run(wait_for_input=Approval, timeout=600)

Any pydantic model works as ``wait_for_input``; `RunInput` forbids unknown fields, as
Prefect's does, so a misspelt field in a resume is refused rather than dropped.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["RunInput"]


class RunInput(BaseModel):
    """A pydantic model for the input of a paused flow run (unknown fields refused)."""

    model_config = ConfigDict(extra="forbid")
