"""Task caching, the same on every path: a key per run, results kept in Redis, hits end Cached.

Caching is on for a task with a `cache_key_fn`, or a `cache_policy`
(`tasks_core.cache_policies`: INPUTS, TASK_SOURCE, RUN_ID, ... and their sums; `"inputs"`
is INPUTS). The key is computed when the run is created, from the call's parameters, and
travels in the run's options (`RunOptions.cache_key`), so a run executed in process, by
`.delay()` on a worker, or by a flow's Celery task runner looks up the same key. When the
run starts, a stored result under its key ends it Cached with that value without running
the body (unless `refresh_cache`); a completed run stores its result under its key for
`cache_expiration` seconds (else the result TTL).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks_core.cache_policies import KeyInputs
from tasks_core.engine.context import current_run
from tasks_core.engine.hooks import fire_final
from tasks_core.engine.lifecycle import RunHandle, shown_concluded
from tasks_core.engine.outcome import Complete, Decision
from tasks_core.engine.results import decode_result
from tasks_core.engine.run_lookup import run_record
from tasks_core.process_runtime import Runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Transition

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["CacheContext", "cache_key", "cached_outcome", "keep_result", "task_input_hash"]


@dataclass(frozen=True)
class CacheContext:
    """What a `cache_key_fn` gets besides the parameters (`task`: the Task itself, as
    Prefect's ``context.task``)."""

    task_name: str
    task_key: str
    run_id: str
    task: Any = None


def task_input_hash(context: CacheContext, parameters: dict[str, Any]) -> str:
    """The default policy as a `cache_key_fn`: the task and its inputs (JSON, sorted keys;
    values with no JSON form by their repr)."""
    text = json.dumps(parameters, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(f"{context.task_key}|{text}".encode()).hexdigest()


def cache_key(task: Task[Any, Any], run_id: str, parameters: dict[str, Any]) -> str | None:
    """The cache key of this call, or None when the task does not cache (or its
    `cache_key_fn` returns None)."""
    context = CacheContext(task.name, task.key, run_id, task)
    if task.cache_key_fn is not None:
        return task.cache_key_fn(context, parameters)
    if task.cache_policy is None:
        return None
    parent = current_run.get()
    flow_run_id = parent.flow_run_id if parent else None
    return task.cache_policy.key(KeyInputs(context, parameters, flow_run_id,
                                           lambda: _flow_parameters(flow_run_id)))


def _flow_parameters(flow_run_id: str | None) -> dict[str, Any] | None:
    if flow_run_id is None:
        return None
    record = run_record(flow_run_id)
    return record.parameters if record is not None else None


def cached_outcome(rt: Runtime, handle: RunHandle, attempt: int,
                   annotation: Any = Any) -> Complete | None:
    """Before attempt `attempt`: on a hit for the run's cache key, end the run Cached with
    the stored value (decoded as `annotation`) and return that outcome; None when the run
    must execute. A hit calls the run's ``on_completion`` hooks (Cached is COMPLETED)."""
    key = handle.options.cache_key
    if key is None or handle.options.refresh_cache:
        return None
    text = rt.cache.get(key)
    if text is None:
        return None
    change = Transition(
        handle.run_id, StateName.CACHED, kind=handle.kind, message=f"cache hit ({key[:16]})",
        result_json=text, outcome=True, expected_attempt=attempt if handle.on_worker else None,
        fields={"error": "",
                "result_size": str(len(text)), "cache_key": key})
    applied = True
    if handle.on_worker:
        applied = rt.reporter.apply_now([change])[0].applied
    else:
        rt.reporter.transition(change, urgent=True)
    outcome = Complete(text, decode_result(text, annotation))
    shown_concluded(handle, outcome)
    if applied and handle.hooks is not None:
        fire_final(rt, handle, change, outcome, attempt)
    return outcome


def keep_result(rt: Runtime, handle: RunHandle, decision: Decision) -> None:
    """Store a completed run's result under its cache key."""
    key = handle.options.cache_key
    if key is None or not isinstance(decision, Complete) or decision.result_json is None:
        return
    expiration = handle.options.cache_expiration
    seconds = int(expiration) if expiration else rt.settings.result_ttl_seconds
    rt.cache.put(key, decision.result_json, seconds)
