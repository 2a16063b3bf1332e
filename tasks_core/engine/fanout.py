"""`.map()` outside a flow: one tracked run per input, dispatched in chunks.

Records are written in pipelined batches and each chunk of `map_chunk_size` runs travels as
one Celery message (the chunk's message is pushed with the chunk's last record, so it never
names a run that does not exist yet); a worker runs a chunk's runs one after another.
Parameters go through the same checks as `.delay()`, before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from tasks_core.dispatch import Envelope
from tasks_core.engine import new_runs
from tasks_core.engine.caching import cache_key
from tasks_core.engine.context import RunFrame, current_run
from tasks_core.engine.sending import Outgoing, outgoing
from tasks_core.futures import TaskFuture
from tasks_core.process_runtime import get_runtime
from tasks_core.routing import routed_queue
from tasks_core.states import StateName
from tasks_core.store.runs import NewRun, stored_fields, utcnow

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["send_map"]


def send_map(
    task: Task[Any, Any], calls: Iterable[tuple[Sequence[Any], dict[str, Any]]]
) -> list[TaskFuture[Any]]:
    """Create one run per call `(args, kwargs)` (`tasks_core.inputs.map_calls`) and send
    them in chunks; their futures, in order."""
    rt = get_runtime()
    settings = rt.settings
    queue = task.queue or routed_queue(rt, task.name)[0]  # task_routes, by name only
    parent = current_run.get()
    runs = _new_runs(task, calls, queue, parent)
    size = settings.map_chunk_size
    for start in range(0, len(runs), size * 10):
        batch: list[NewRun] = []
        messages: list[Outgoing] = []
        for chunk_start in range(start, min(start + size * 10, len(runs)), size):
            chunk = runs[chunk_start:chunk_start + size]
            batch.extend(chunk)
            message = outgoing(rt, Envelope.for_chunk(
                [r.id for r in chunk], queue=queue, name=task.name,
                root_id=parent.root if parent else None,
                parent_id=parent.run_id if parent else None))
            chunk[-1].push = message.push
            messages.append(message)
        rt.store.create_new(batch)
        for message in messages:  # another broker: published now, after the records exist
            message.after(rt, True)
    return [TaskFuture(run.id, task.name, task.return_type) for run in runs]


def _new_runs(task: Task[Any, Any], calls: Iterable[tuple[Sequence[Any], dict[str, Any]]],
              queue: str, parent: RunFrame | None) -> list[NewRun]:
    """The runs of the calls, as stored. Runs of one `.map()` differ only in their id,
    parameters, creation time and run name (and, for a task that caches, its options'
    cache key): the first is built as `.delay()` builds one, and the others are copies of
    its fields with those changed (building each record costs more than the rest of its
    creation)."""
    runs: list[NewRun] = []
    base: dict[str, str] | None = None
    for call_args, call_kwargs in calls:
        parameters = task.parameters.bind(tuple(call_args), call_kwargs)
        params_json = task.encode_parameters(parameters)
        run_id = str(uuid.uuid4())
        if base is None or task.caches:
            key = cache_key(task, run_id, parameters) if task.caches else None
            record = new_runs.task_run(
                task, params_json, new_runs.run_options(task, parent, cache_key=key), parent,
                state=StateName.PENDING, queue=queue, priority=task.priority, run_id=run_id)
            fields = stored_fields(record)
            base = {k: v for k, v in fields.items() if k not in _PER_RUN}
            runs.append(NewRun(run_id, "task", StateName.PENDING, record.created, fields))
            continue
        fields = {**base, "id": run_id, "parameters": params_json}
        name = new_runs.run_name(task, params_json)
        if name is not None:
            fields["task_run_name"] = name
        runs.append(NewRun(run_id, "task", StateName.PENDING, utcnow(), fields))
    return runs


_PER_RUN = ("id", "parameters", "task_run_name")
"""Stored fields that differ between the runs of one `.map()` (`_new_runs`)."""
