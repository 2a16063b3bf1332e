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
from tasks_core.engine.context import current_run
from tasks_core.engine.sending import Outgoing, outgoing
from tasks_core.futures import TaskFuture
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.routing import routed_queue
from tasks_core.states import StateName
from tasks_core.store.runs import BrokerPush

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
    runs: list[RunRecord] = []
    for call_args, call_kwargs in calls:
        parameters = task.parameters.bind(tuple(call_args), call_kwargs)
        params_json = task.encode_parameters(parameters)
        run_id = str(uuid.uuid4())
        key = cache_key(task, run_id, parameters) if task.caches else None
        runs.append(new_runs.task_run(
            task, params_json, new_runs.run_options(task, parent, cache_key=key), parent,
            state=StateName.PENDING, queue=queue, priority=task.priority, run_id=run_id))
    size = settings.map_chunk_size
    for start in range(0, len(runs), size * 10):
        batch: list[tuple[RunRecord, BrokerPush | None]] = []
        messages: list[Outgoing] = []
        for chunk_start in range(start, min(start + size * 10, len(runs)), size):
            chunk = runs[chunk_start:chunk_start + size]
            batch.extend((run, None) for run in chunk[:-1])
            message = outgoing(rt, Envelope.for_chunk(
                [r.id for r in chunk], queue=queue, name=task.name,
                root_id=parent.root if parent else None,
                parent_id=parent.run_id if parent else None))
            batch.append((chunk[-1], message.push))
            messages.append(message)
        rt.store.create_many(batch)
        for message in messages:  # another broker: published now, after the records exist
            message.after(rt, True)
    return [TaskFuture(run.id, task.name, task.return_type) for run in runs]
