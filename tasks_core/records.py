"""Pydantic models of run records as stored in Redis (one flat hash per run).

A record is read with its state history; `RunRecord.from_redis` turns the flat string hash
into typed fields. Writers go through `tasks_core.store.runs`, never HSET directly.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from tasks_core.states import StateName, StateType, is_terminal

__all__ = ["ErrorInfo", "RunOptions", "RunRecord", "StateEntry"]

RunKind = Literal["task", "flow"]


class StateEntry(BaseModel):
    """One state in a run's history."""

    name: StateName
    type: StateType
    timestamp: datetime
    message: str = ""


class ErrorInfo(BaseModel):
    """The exception a run ended with."""

    type: str
    message: str
    traceback: str = ""


class RunOptions(BaseModel):
    """Execution options a worker needs, copied from the task at send time."""

    retries: int = 0
    retry_delays: list[float] = Field(default_factory=list)
    retry_jitter_factor: float | None = None
    timeout_seconds: float | None = None


_JSON_FIELDS = {"parameters", "tags", "error", "options"}
_INT_FIELDS = {"attempt", "priority", "result_size"}


class RunRecord(BaseModel):
    """A task run (or, later, a flow run): the ledger entry of one execution."""

    id: str
    kind: RunKind = "task"
    name: str
    task_key: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    state: StateName
    state_type: StateType
    state_message: str = ""
    created: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    scheduled_time: datetime | None = None
    parent_task_run_id: str | None = None
    parent_flow_run_id: str | None = None
    flow_version: str | None = None
    deployment_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    queue: str | None = None
    priority: int = 0
    worker: str | None = None
    owner: str | None = None
    attempt: int = 0
    options: RunOptions = Field(default_factory=RunOptions)
    result_ref: str | None = None
    result_size: int = 0
    error: ErrorInfo | None = None
    history: list[StateEntry] = Field(default_factory=list)

    @property
    def is_terminal(self) -> bool:
        """Whether the run has reached a final state."""
        return is_terminal(self.state)

    @property
    def duration_seconds(self) -> float | None:
        """Run time from first Running to the end, when both are known."""
        if self.start_time and self.end_time:
            return (self.end_time - self.start_time).total_seconds()
        return None

    @classmethod
    def from_redis(cls, fields: dict[str, str], history: list[str] | None = None) -> RunRecord:
        """Build a record from its flat Redis hash and history list."""
        data: dict[str, Any] = {}
        for key, value in fields.items():
            if value == "":
                continue
            if key in _JSON_FIELDS:
                data[key] = json.loads(value)
            elif key in _INT_FIELDS:
                data[key] = int(value)
            else:
                data[key] = value
        data["history"] = [json.loads(item) for item in history or []]
        return cls.model_validate(data)
