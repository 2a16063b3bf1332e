"""`.map()` outside a flow: one tracked run per input, dispatched in chunks.

Records are written in pipelined batches and each chunk of `map_chunk_size` runs travels as
one Celery message (the chunk's message is pushed with the chunk's last record, so it never
names a run that does not exist yet); a worker claims a chunk's runs in one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tasks_core.dispatch import Envelope
from tasks_core.engine.params import bind_parameters, dumps_parameters
from tasks_core.engine.task_run import new_run
from tasks_core.futures import TaskFuture
from tasks_core.runtime import get_runtime
from tasks_core.states import StateName

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["send_map"]


def send_map(
    task: Task[Any, Any], iterables: tuple[Iterable[Any], ...], unmapped: dict[str, Any]
) -> list[TaskFuture[Any]]:
    """Create one run per zipped input and send them in chunks; their futures, in order."""
    rt = get_runtime()
    limit = rt.settings.parameters_max_bytes
    queue = task.queue or rt.settings.default_pool
    runs = []
    for values in zip(*iterables, strict=True):
        parameters = bind_parameters(task.fn, task.signature, values, unmapped)
        runs.append(new_run(task, dumps_parameters(task.name, parameters, limit),
                            state=StateName.PENDING, queue=queue, priority=task.priority))
    size = rt.settings.map_chunk_size
    store, dispatcher = rt.store, rt.dispatcher
    for start in range(0, len(runs), size * 10):
        with store.client.pipeline(transaction=False) as pipe:
            envelopes = []
            for chunk_start in range(start, min(start + size * 10, len(runs)), size):
                chunk = runs[chunk_start:chunk_start + size]
                envelope = Envelope.for_chunk([r.id for r in chunk], queue=queue, name=task.name)
                push = dispatcher.push_for(envelope)
                for run in chunk[:-1]:
                    store.create(run, pipe=pipe)
                store.create(chunk[-1], push, pipe=pipe)
                if push is None:
                    envelopes.append(envelope)
            pipe.execute()
        for envelope in envelopes:
            dispatcher.publish(envelope)
    return [TaskFuture(run.id, task.name) for run in runs]
