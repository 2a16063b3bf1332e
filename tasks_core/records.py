"""Pydantic models of run records as stored in Redis (one flat hash per run).

A record is read with its state history; `RunRecord.from_redis` turns the flat string hash
into typed fields. Writers go through `tasks_core.store.runs`, never HSET directly.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from tasks_core.run_event_codec import compact_related, expand_related
from tasks_core.state_history import decode_entry, entries_from_fields, is_history_field
from tasks_core.states import StateName, StateType, is_terminal, state_type

__all__ = ["ErrorInfo", "RunOptions", "RunRecord", "StateEntry", "TriggeredBy"]

RunKind = Literal["task", "flow"]


class StateEntry(BaseModel):
    """One state in a run's history.

    Stored without what is derivable (tasks_core/state_history.py): ``type`` follows from
    ``name`` and an empty ``message`` is left out; both read back filled in.
    """

    name: StateName
    type: StateType
    timestamp: datetime
    message: str = ""

    @model_validator(mode="before")
    @classmethod
    def _type_from_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" not in data and "name" in data:
            return {**data, "type": state_type(StateName(data["name"]))}
        return data


class ErrorInfo(BaseModel):
    """The exception a run ended with."""

    type: str
    message: str
    traceback: str = ""


class RunOptions(BaseModel):
    """How a run executes, resolved when it is created and carried with it (the `options`
    field of the record), so it executes the same way in process and on any worker.

    Attributes:
        retries, retry_delays, retry_jitter_factor, timeout_seconds: from the task or flow.
        log_prints: print() becomes a log entry of the run: the task's own option, else the
            enclosing run's at creation.
        cache_key: the run's cache key (None: it does not cache), computed at creation from
            the task's cache policy or `cache_key_fn` and its parameters.
        cache_expiration: seconds a cached result is kept (None: the result TTL).
        refresh_cache: run even on a cache hit, and store the new result.
        retry_forever, autoretry_for, dont_autoretry_for, retry_backoff, retry_backoff_max,
            retry_jitter, default_retry_delay: Celery's retry options (exception classes
            as importable names); see `engine.retry_policy`.
        soft_time_limit, time_limit: Celery's limits in seconds (`engine.attempt`,
            `dispatch.hard_time_limit`); ignore_result: the value is not stored.
        persist_result: False: no result value is stored (``persist_result=False``).
        result_storage: a folder for results over the size limit (`result_options`).
        env: environment variables set while the run executes (a deployment's
            ``job_variables={"env": ...}``; `tasks_core.job_variables`).
    """

    retries: int = 0
    retry_delays: list[float] = Field(default_factory=list)
    retry_jitter_factor: float | None = None
    timeout_seconds: float | None = None
    log_prints: bool = False
    cache_key: str | None = None
    cache_expiration: float | None = None
    refresh_cache: bool = False
    retry_forever: bool = False
    autoretry_for: list[str] = Field(default_factory=list)
    dont_autoretry_for: list[str] = Field(default_factory=list)
    retry_backoff: float = 0.0
    retry_backoff_max: float = 600.0
    retry_jitter: bool = False
    default_retry_delay: float = 180.0
    soft_time_limit: float | None = None
    time_limit: float | None = None
    ignore_result: bool = False
    persist_result: bool = True
    result_storage: str | None = None
    env: dict[str, str] | None = None


class TriggeredBy(BaseModel):
    """Why a flow run exists when an automation started it (the `triggered_by` field).

    Attributes:
        automation_id, automation_name: the automation whose action created the run.
        event_id, event: the triggering event's id and name (None: a Proactive trigger
            whose window saw no event); the run's first event `follows` that id.
        firing_id: the firing (with the action index, the run's idempotency key).
    """

    automation_id: str
    automation_name: str
    event_id: str | None = None
    event: str | None = None
    firing_id: str | None = None


_STATE_NAMES = frozenset(name.value for name in StateName)

INLINE_RESULT = "inline"
"""`RunRecord.result_ref` of a run whose result is kept in its record."""

_JSON_FIELDS = {"parameters", "tags", "error", "options", "related", "triggered_by",
                "celery_meta", "headers"}
_INT_FIELDS = {"attempt", "priority", "result_size"}


_ALWAYS = {"kind", "attempt"}
"""Written even at their default: the Lua scripts read them."""


def _json_field(key: str, text: str) -> Any:
    """A JSON field of a stored record; parameters that cannot be read back (written by an
    older version: an integer too long for `json.loads`) are shown, not raised."""
    try:
        return json.loads(text)
    except ValueError as exc:
        if key != "parameters":
            raise
        return {"__unreadable__": f"{exc}"[:200]}


@functools.cache
def _defaults() -> dict[str, Any]:
    """Default values of RunRecord's optional fields (not written: they read back so)."""
    return {name: field.get_default(call_default_factory=True)
            for name, field in RunRecord.model_fields.items() if not field.is_required()}


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
    """Where the run's result is stored: the Redis key holding it, or ``"inline"`` when it
    is kept in the record itself (a short result: `tasks_core.store.runs.result_inline`);
    None when the run stored no result."""
    result_size: int = 0
    error: ErrorInfo | None = None
    flow_run_name: str | None = None
    task_run_name: str | None = None
    """A task run's own name (`@task(task_run_name=...)`), None: the task's name."""
    related: list[dict[str, str]] = Field(default_factory=list)
    triggered_by: TriggeredBy | None = None
    expires: datetime | None = None
    """Celery's ``expires`` (UTC): not started by then, the run ends Cancelled ("expired")."""
    headers: dict[str, Any] = Field(default_factory=dict)
    """Celery's ``headers=``: extra message headers given by the caller."""
    shadow: str | None = None
    """Celery's ``shadow=``: the name logs and Flower show instead of the task's."""
    history: list[StateEntry] = Field(default_factory=list)
    celery_state: str | None = None
    """Celery's custom state set by ``self.update_state(state=...)`` while it runs."""
    celery_meta: dict[str, Any] | None = None
    """Its ``meta`` (JSON), what Celery's ``AsyncResult.info`` shows for that state."""
    parameters_json: str | None = Field(default=None, exclude=True)
    """The parameters as recorded (JSON text), set when a record is built to be written."""

    @classmethod
    def built(cls, values: dict[str, Any]) -> RunRecord:
        """A record from trusted values that name every field (the engine's builders,
        `engine.new_runs`): what `model_construct` makes, without its per-field default
        and alias lookups, which cost more than the rest of creating an in-process run.
        `tests/unit/test_records.py` checks it against `model_validate`."""
        record = cls.__new__(cls)
        object.__setattr__(record, "__dict__", values)
        object.__setattr__(record, "__pydantic_fields_set__", set(values))
        object.__setattr__(record, "__pydantic_extra__", None)
        object.__setattr__(record, "__pydantic_private__", None)
        return record

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

    @property
    def argsrepr(self) -> str:
        """The start of the parameters' JSON, as Celery's `argsrepr` shows them."""
        text = self.parameters_json
        if text is None:
            text = json.dumps(self.parameters, separators=(",", ":"), default=str)
        return text[:256]

    def to_redis(self) -> dict[str, str]:
        """The record as its flat Redis hash (strings; the inverse of `from_redis`, without
        the history, which the store writes entry by entry)."""
        flat: dict[str, str] = {}
        defaults = _defaults()
        for key, value in self.__dict__.items():
            if key == "parameters" and self.parameters_json is not None:
                flat[key] = self.parameters_json
            elif (key in ("history", "parameters_json") or value is None
                    or (key in defaults and value == defaults[key] and key not in _ALWAYS)):
                continue  # a missing field reads back as its default
            elif isinstance(value, BaseModel):
                flat[key] = value.model_dump_json(exclude_defaults=True)
            elif key == "related":
                flat[key] = json.dumps(compact_related(value), separators=(",", ":"))
            elif key in _JSON_FIELDS:
                flat[key] = json.dumps(value, separators=(",", ":"))
            elif isinstance(value, datetime):
                flat[key] = value.isoformat()
            else:
                flat[key] = str(value)
        return flat

    @classmethod
    def from_redis(cls, fields: dict[str, str], *, history: bool = True) -> RunRecord:
        """Build a record from its flat Redis hash: its fields, and its state history from
        the ``h<i>`` fields (tasks_core/state_history.py) unless `history` is False. What
        the store does not keep is derived: ``state_type`` from ``state``, ``created`` from
        the first history entry (`tasks_core.store.runs.RunStore.create`). A
        result kept in the record (field ``result``) is not part of the record: it reads
        as ``result_ref = "inline"`` (`tasks_core.store.runs.result_inline`)."""
        data: dict[str, Any] = {}
        for key, value in fields.items():
            if value == "" or is_history_field(key) or key == "state_type":
                continue  # the type follows from the state (a stored one may be stale)
            if key == "result":
                data.setdefault("result_ref", INLINE_RESULT)
            elif key == "related":
                data[key] = expand_related(json.loads(value))
            elif key in _JSON_FIELDS:
                data[key] = _json_field(key, value)
            elif key in _INT_FIELDS:
                data[key] = int(value)
            else:
                data[key] = value
        entries = entries_from_fields(fields) if history else []
        if data.get("state") in _STATE_NAMES:  # an unknown one fails validation below
            data["state_type"] = state_type(StateName(data["state"]))
        if "created" not in data and "h1" in fields:  # not stored: the first entry's time
            data["created"] = (entries[0] if entries else decode_entry(fields["h1"]))[
                "timestamp"]
        data["history"] = entries
        return cls.model_validate(data)
