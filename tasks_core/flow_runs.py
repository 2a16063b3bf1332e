"""Prefect's `prefect.flow_runs` by its import line: pausing, suspending and resuming flow
runs (`tasks_core.pausing`, `tasks_core.suspending`)."""

from __future__ import annotations

from tasks_core.pausing import PauseError, PauseTimeout, pause_flow_run, resume_flow_run
from tasks_core.suspending import suspend_flow_run

__all__ = ["PauseError", "PauseTimeout", "pause_flow_run", "resume_flow_run",
           "suspend_flow_run"]
