"""Claiming a run: the one transition that makes this process the one running an attempt.

A message only says "go": the claim moves the run into Running (attempt 1) or Retrying
(a later attempt) only if its attempt number is the one before the message's, so a
duplicate delivery is refused. The claim returns what executing the run needs
(`ClaimedRun`); a refused claim is a duplicate to drop or a run to recover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tasks_core.process_runtime import HOST
from tasks_core.records import RunOptions
from tasks_core.states import StateName
from tasks_core.store.runs import Transition, utcnow

__all__ = ["CLAIM_FIELDS", "ClaimedRun", "claim"]

_COMMON = ("id", "name", "parameters", "queue", "priority", "options", "shadow", "headers")
CLAIM_FIELDS = {"task": (*_COMMON, "task_key", "parent_flow_run_id"),
                "flow": (*_COMMON, "deployment_id", "parent_task_run_id")}
"""What executing a run (and sending its next attempt) needs from the record, per kind
(the fewer, the cheaper the claim's reply)."""


def claim(run_id: str, attempt: int, owner: str, kind: str = "task") -> Transition:
    """The transition that makes `owner` (``host:pid``) the one running attempt `attempt`
    of a run of `kind` (``task`` or ``flow``: the Celery task that carries it says which)."""
    fields = {"attempt": str(attempt), "owner": owner, "worker": HOST}
    if attempt == 1:
        fields["start_time"] = utcnow().isoformat()
    target = StateName.RUNNING if attempt == 1 else StateName.RETRYING
    # an expired run (Celery's `expires`) is refused here, before it starts (engine.expiry)
    return Transition(run_id, target, kind=kind, fields=fields, expected_attempt=attempt - 1,
                      return_fields=CLAIM_FIELDS[kind], check_expiry=True)


@dataclass(slots=True)
class ClaimedRun:
    """A run this process has claimed: the record fields execution needs, parsed."""

    id: str
    kind: str
    name: str
    attempt: int
    parameters: str = "{}"
    task_key: str = ""
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    deployment_id: str | None = None
    queue: str = ""
    priority: int = 0
    options: RunOptions = field(default_factory=RunOptions)
    root_id: str | None = None
    """Celery's ``root_id`` / ``parent_id`` its message arrived with (its next attempt's
    message carries them on)."""
    celery_parent_id: str | None = None
    shadow: str | None = None
    """Celery's ``shadow=`` name, ``headers=`` of the call (its messages carry them on)."""
    headers: str = ""

    @classmethod
    def from_fields(cls, fields: dict[str, str], attempt: int, kind: str) -> ClaimedRun:
        """From the fields a claim returned (`CLAIM_FIELDS`, empty strings for missing)."""
        return cls(
            id=fields["id"], kind=kind, name=fields.get("name", ""),
            attempt=attempt, parameters=fields.get("parameters") or "{}",
            task_key=fields.get("task_key", ""),
            parent_flow_run_id=fields.get("parent_flow_run_id") or None,
            parent_task_run_id=fields.get("parent_task_run_id") or None,
            deployment_id=fields.get("deployment_id") or None,
            queue=fields.get("queue", ""), priority=int(fields.get("priority") or 0),
            options=RunOptions.model_validate_json(fields.get("options") or "{}"),
            shadow=fields.get("shadow") or None, headers=fields.get("headers") or "")

    @property
    def argsrepr(self) -> str:
        """The start of the parameters' JSON (Celery's `argsrepr`)."""
        return self.parameters[:256]
