"""``/work-pools`` and ``/work-pools/{name}``: each pool paused or not, ready or not (a
worker of it heartbeats), its concurrency limit (a form changes it), running and parked
flow runs, queue depth, paused work queues, and its workers; Pause / Resume buttons. Changes
go through ``/api/work_pools`` (`static/work_pools.js`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tasks_core.api.work_pools import pool_path
from tasks_core.dashboard.templating import NAV, page
from tasks_core.deployment_models import WorkPool
from tasks_core.errors import WorkPoolNotFound
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.store.nodes import NodeStatus

__all__ = ["PoolView", "pool_view", "router"]

router = APIRouter(include_in_schema=False)
NAV.append(("Work pools", "/work-pools"))


@dataclass(frozen=True)
class PoolView:
    """What the pages show of one pool.

    Attributes:
        pool: its record (a default one, `recorded` False, for a pool that has workers but
            no record: it cannot be paused or limited until created).
        workers: names of its workers that heartbeat within the heartbeat timeout.
        running, parked: counts of its flow runs holding a slot / waiting at the gate.
        depth: messages waiting on its Celery queue.
    """

    pool: WorkPool
    recorded: bool
    workers: list[str]
    running: int
    parked: int
    depth: int
    nodes: list[NodeStatus] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Whether a worker of the pool heartbeats (beat's `pools.tick` rule)."""
        return bool(self.workers)


def pool_view(rt: Runtime, name: str, now: float, *, nodes: bool = False) -> PoolView:
    """The view of pool `name` at `now` (epoch seconds); with `nodes`, its workers' details
    (`tasks-core worker ls`'s rows for the workers that serve it)."""
    try:
        pool, recorded = rt.pools.get(name), True
    except WorkPoolNotFound:
        pool, recorded = WorkPool(name=name), False
    (running, parked), = rt.pools.counts([name])
    timeout = rt.settings.heartbeat_timeout_seconds
    serving = [s for s in rt.nodes.list_nodes(now, timeout) if name in s.info.pools] \
        if nodes else []
    return PoolView(pool=pool, recorded=recorded,
                    workers=rt.procs.pool_workers(name, now, timeout), running=running,
                    parked=parked, depth=rt.queues.depth(name), nodes=serving)


def _names(rt: Runtime) -> list[str]:
    return sorted({*rt.pools.names(), *rt.procs.pools_with_workers()})


@router.get("/work-pools", response_class=HTMLResponse)
def work_pools(request: Request, partial: bool = False) -> HTMLResponse:
    """Every pool (with a record or with workers), by name."""
    rt, now = get_runtime(), time.time()
    views = [pool_view(rt, name, now) for name in _names(rt)]
    return page(request, "work_pools_list.html" if partial else "work_pools.html",
                views=views)


@router.get("/work-pools/{name}", response_class=HTMLResponse)
def work_pool(request: Request, name: str, partial: bool = False) -> HTMLResponse:
    """One pool, its workers, and the forms that change it (404 for an unknown pool)."""
    rt, now = get_runtime(), time.time()
    if name not in rt.procs.pools_with_workers():
        pool_path(name)  # raises WorkPoolNotFound (404) naming how to list and create pools
    view = pool_view(rt, name, now, nodes=True)
    return page(request, "work_pool_detail.html" if partial else "work_pool.html",
                view=view, now=now)
