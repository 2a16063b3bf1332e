"""Task caching: a cache key per call, results kept in Redis, hits end in the Cached state.

Caching is on for a task when it has a `cache_key_fn`, or `cache_policy="inputs"` (the
default policy: the task's key and its JSON inputs, hashed). A hit returns the stored value
without running the task; `refresh_cache=True` runs it and stores the new value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasks_core.runtime import get_runtime

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["CacheContext", "cache_key", "lookup", "remember", "task_input_hash"]


@dataclass(frozen=True)
class CacheContext:
    """What a `cache_key_fn` gets besides the parameters."""

    task_name: str
    task_key: str
    run_id: str


def task_input_hash(context: CacheContext, parameters: dict[str, Any]) -> str:
    """The default policy as a `cache_key_fn`: the task and its inputs."""
    import json

    text = json.dumps(parameters, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(f"{context.task_key}|{text}".encode()).hexdigest()


def cache_key(task: Task[Any, Any], run_id: str, parameters: dict[str, Any]) -> str | None:
    """The cache key of this call, or None when the task does not cache."""
    context = CacheContext(task.name, task.key, run_id)
    if task.cache_key_fn is not None:
        return task.cache_key_fn(context, parameters)
    if task.cache_policy == "inputs":
        return task_input_hash(context, parameters)
    return None


def lookup(key: str) -> str | None:
    """The cached result JSON for a key, or None."""
    rt = get_runtime()
    value = rt.client.get(rt.store.keys.cache(key))
    return None if value is None else str(value)


def remember(key: str, result_json: str, expiration: float | None) -> None:
    """Keep a result under a cache key (for `expiration` seconds, else until evicted by TTL)."""
    rt = get_runtime()
    seconds = int(expiration) if expiration else rt.settings.result_ttl_seconds
    rt.client.set(rt.store.keys.cache(key), result_json, ex=max(1, seconds))
