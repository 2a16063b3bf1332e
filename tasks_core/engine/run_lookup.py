"""The record of a run executing in this process, read once and kept while it runs.

`tasks_core.runtime`, `tasks_core.context` and the FLOW_PARAMETERS cache policy need facts
about the run in this context (its name, parameters, tags, deployment) on every path: a
direct call (the record is still in the reporter's buffer), a worker's run (the record is
in Redis), a task in a flow's task runner. One read per run id (a record not found yet is
still in this process's write buffer: it is flushed and read again), then the record is
kept in a small bounded map (what is read from it -- id, name, parameters, tags,
deployment -- never changes; the attempt does, and `attempt_of` reads it each time).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from tasks_core.deployment_models import Deployment
from tasks_core.errors import DeploymentNotFound, RunNotFound
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord

__all__ = ["attempt_of", "deployment_record", "run_record"]

_KEEP = 256
_lock = threading.Lock()
_records: OrderedDict[str, RunRecord] = OrderedDict()
_deployments: OrderedDict[str, Deployment] = OrderedDict()


def run_record(run_id: str) -> RunRecord | None:
    """The record of run `run_id` (None when it cannot be read: expired, Redis away)."""
    with _lock:
        found = _records.get(run_id)
    if found is not None:
        return found
    rt = get_runtime()
    try:
        try:
            found = rt.store.get(run_id)
        except RunNotFound:  # created here and still buffered: write it, then read it
            rt.reporter.flush(timeout=5)
            found = rt.store.get(run_id)
    except (RunNotFound, ConnectionError):
        return None
    _keep(_records, run_id, found)
    return found


def attempt_of(run_id: str) -> int:
    """The run's current attempt, read now (it changes with retries: never kept); 0 when
    it cannot be read. Buffered writes are flushed first, so an in-process retry shows."""
    rt = get_runtime()
    try:
        if rt.reporter.pending:
            rt.reporter.flush(timeout=5)
        return int(rt.store.field(run_id, "attempt") or 0)
    except (ConnectionError, ValueError):
        return 0


def deployment_record(deployment_id: str) -> Deployment | None:
    """The deployment with this id (None when it is gone or cannot be read)."""
    with _lock:
        found = _deployments.get(deployment_id)
    if found is not None:
        return found
    try:
        found = get_runtime().deployments.get(deployment_id)
    except (DeploymentNotFound, ConnectionError):
        return None
    _keep(_deployments, deployment_id, found)
    return found


def _keep(cache: OrderedDict[str, RunRecord] | OrderedDict[str, Deployment], key: str,
          value: RunRecord | Deployment) -> None:
    with _lock:
        cache[key] = value  # type: ignore[assignment]
        while len(cache) > _KEEP:
            cache.popitem(last=False)
