"""Work pools: create, pause, resume, limit; the gate flow runs pass on a worker.

Pausing a pool stops its workers from starting new flow runs: the runs wait (parked,
still Pending) and none is lost; resuming sends them again. Pausing one work queue of a
pool (``high`` of the Celery queue ``pool:high``) does the same for that queue's runs
only: the pool's other queues, and its own queue (runs with no work queue), go on. A
concurrency limit caps the pool's running flow runs; extra runs wait for a slot, they do
not fail.
"""

from __future__ import annotations

from tasks_core.deployment_models import WorkPool
from tasks_core.engine.sending import send_next
from tasks_core.events.internal import work_pool_event, work_queue_event
from tasks_core.pool_names import check_pool_name
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.store.work_pools import WorkPoolStore

__all__ = ["create_pool", "pause_pool", "pause_queue", "pool_of", "pool_store",
           "release_slot", "resume_pool", "resume_queue", "set_concurrency", "work_queue_of"]


def pool_store(rt: Runtime | None = None) -> WorkPoolStore:
    """The work pool store of `rt` (default: this process's runtime)."""
    return (rt or get_runtime()).pools


def pool_of(queue: str) -> str:
    """The pool of a queue (``pool`` or ``pool:work-queue``)."""
    return queue.split(":", 1)[0]


def work_queue_of(queue: str) -> str:
    """The work queue of a queue: ``high`` of ``pool:high``; "" for ``pool`` itself."""
    return queue.partition(":")[2]


def create_pool(name: str, *, concurrency_limit: int | None = None,
                description: str | None = None) -> WorkPool:
    """Create (or replace) a work pool record."""
    return pool_store().save(WorkPool(name=name, concurrency_limit=concurrency_limit,
                                      description=description))


def pause_pool(name: str) -> WorkPool:
    """Stop the pool's workers from starting new flow runs (they wait, none is lost).
    Emits ``tasks-core.work-pool.paused``."""
    pool = pool_store().update(name, paused=True)
    work_pool_event(name, "paused")
    return pool


def resume_pool(name: str) -> list[str]:
    """Let the pool start flow runs again; the parked runs sent again. Emits
    ``tasks-core.work-pool.resumed``."""
    store = pool_store()
    store.update(name, paused=False)
    work_pool_event(name, "resumed")
    return _wake(store, store.parked(name))


def pause_queue(pool: str, queue: str) -> WorkPool:
    """Stop the pool's workers from starting new flow runs of its work queue `queue`
    (``high`` for runs on ``pool:high``); they wait, parked and Pending, none is lost. Runs
    of the pool's other queues, and of its own queue, are not held. Emits
    ``tasks-core.work-queue.paused``.

    Returns:
        The pool's record, `queue` in its ``paused_queues``.

    Raises:
        WorkPoolNotFound: no such pool (the message says how to create it).
        ValidationError: `queue` is not a valid work queue name (says what is wrong).
    """
    record = _set_queue_paused(pool, queue, True)
    work_queue_event(pool, queue, "paused")
    return record


def resume_queue(pool: str, queue: str) -> list[str]:
    """Let the pool's work queue `queue` start flow runs again. The pool's parked runs are
    sent again (the gate decides anew: runs still held park again). Emits
    ``tasks-core.work-queue.resumed``.

    Returns:
        The ids of the runs sent again.

    Raises:
        WorkPoolNotFound, ValidationError: as `pause_queue`.
    """
    store = pool_store()
    _set_queue_paused(pool, queue, False)
    work_queue_event(pool, queue, "resumed")
    return _wake(store, store.parked(pool))


def _set_queue_paused(pool: str, queue: str, paused: bool) -> WorkPool:
    check_pool_name(queue, what="work queue name")  # before the store: one clear error
    return pool_store().set_queue_paused(pool, queue, paused)


def set_concurrency(name: str, limit: int | None) -> WorkPool:
    """Cap the pool's running flow runs (None: no limit); waiting runs may start now."""
    store = pool_store()
    pool = store.update(name, concurrency_limit=limit)
    _wake(store, store.parked(name))
    return pool


def release_slot(queue: str, run_id: str) -> list[str]:
    """A flow run of the pool ended: free its slot and send the next parked run."""
    store = pool_store()
    return _wake(store, store.release(pool_of(queue), run_id))


def _wake(store: WorkPoolStore, run_ids: list[str]) -> list[str]:
    rt = get_runtime()
    sent = []
    for record in rt.store.get_many(run_ids):
        if not record.is_terminal:
            send_next(rt, [record])  # the worker's gate decides again; a duplicate is dropped
            sent.append(record.id)
    return sent
