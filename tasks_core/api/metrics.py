"""`/metrics`: Prometheus text (prometheus-client), read from Redis at each scrape.

Mounted at the root (not under ``/api``), behind the API key when one is set. Each app has
its own `CollectorRegistry` holding one `StackCollector` (never the process-global default
registry), so nothing is kept in this process between scrapes: every figure is what Redis
holds now, and any number of servers on one Redis report the same values.

    tasks_core_runs{kind,state,work_pool}                   gauge: runs now in each state
    tasks_core_queue_depth{work_pool,queue}                 gauge: messages waiting
    tasks_core_run_duration_seconds{kind,work_pool,state}   histogram: start -> final state
    tasks_core_events_ingested_total                        counter: events ever appended
    tasks_core_automation_firings_total{automation}         counter: firings acted on
    tasks_core_automation_action_failures_total{automation,action}
                                                            counter: actions failed for good
    tasks_core_trigger_engine_lag_events                    gauge: events not read yet
    tasks_core_trigger_engine_pending_events                gauge: read, not acked yet

What is exact and what is estimated is said in `tasks_core.store.metrics` (per kind and
state exact; the split by pool of a state holding over 1000 runs is estimated from its
newest 1000). ``work_pool`` is the run's queue up to its first ``:`` (``(none)``: called in-process,
``(expired)``: indexed runs whose record expired). Redis unavailable: 503, as every route.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from tasks_core.process_runtime import get_runtime
from tasks_core.store.metrics import DURATION_BUCKETS, SAMPLE, MetricsStore

__all__ = ["StackCollector", "metrics", "router"]

router = APIRouter(tags=["metrics"])

_BOUNDS = [*(f"{bound:g}" for bound in DURATION_BUCKETS), "+Inf"]


class StackCollector(Collector):
    """Every tasks-core metric family, read through `store` when collected.

    Args:
        store: the scrape-time reads.
        default_pool: the pool of unrouted runs (its queue depth is always reported).
    """

    def __init__(self, store: MetricsStore, default_pool: str) -> None:
        self.store = store
        self.default_pool = default_pool

    def collect(self) -> Iterator[Metric]:
        """The families of the module docstring's table, read now."""
        yield self._runs()
        yield self._queues()
        yield self._durations()
        yield CounterMetricFamily(
            "tasks_core_events_ingested", "Events appended to the event stream (run-state "
            "events and emitted ones), ever", value=self.store.events_added())
        yield from self._automations()
        yield from self._engine()

    def _runs(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "tasks_core_runs", "Runs now in each state, by kind and work pool (exact per kind "
            f"and state; the split by pool is estimated from the newest {SAMPLE} runs of a "
            "state holding more)", labels=["kind", "state", "work_pool"])
        for row in self.store.run_counts():
            family.add_metric([row.kind, row.state, row.pool], row.count)
        return family

    def _queues(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "tasks_core_queue_depth", "Messages waiting on a Celery queue of a work pool",
            labels=["work_pool", "queue"])
        for row in self.store.queue_depths([self.default_pool]):
            family.add_metric([row.pool, row.queue], row.depth)
        return family

    def _durations(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "tasks_core_run_duration_seconds", "Run time from start to a final state, of "
            "runs that started, by kind, work pool and final state",
            labels=["kind", "work_pool", "state"])
        for row in self.store.durations():
            family.add_metric([row.kind, row.pool, row.state],
                              list(zip(_BOUNDS, row.buckets, strict=True)), row.total_seconds)
        return family

    def _automations(self) -> Iterator[Metric]:
        counts = self.store.automation_counts()
        firings = CounterMetricFamily(
            "tasks_core_automation_firings", "Automation firings whose actions started",
            labels=["automation"])
        for name, n in sorted(counts.firings.items()):
            firings.add_metric([name], n)
        failures = CounterMetricFamily(
            "tasks_core_automation_action_failures", "Automation actions that failed for "
            "good (not retried)", labels=["automation", "action"])
        for (name, action), n in sorted(counts.failures.items()):
            failures.add_metric([name, action], n)
        return iter((firings, failures))

    def _engine(self) -> Iterator[Metric]:
        lag = self.store.engine_lag()
        if lag is None:  # no trigger engine has started on this stream yet
            return
        if lag.lag is not None:
            yield GaugeMetricFamily(
                "tasks_core_trigger_engine_lag_events", "Events on the stream the trigger "
                "engine has not read yet", value=lag.lag)
        yield GaugeMetricFamily(
            "tasks_core_trigger_engine_pending_events", "Events the trigger engine read and "
            "has not acknowledged yet", value=lag.pending)


def _registry(app: FastAPI) -> CollectorRegistry:
    registry: CollectorRegistry | None = getattr(app.state, "metrics_registry", None)
    if registry is None:
        rt = get_runtime()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(StackCollector(rt.metrics, app.state.settings.default_pool))
        app.state.metrics_registry = registry
    return registry


@router.get("/metrics", operation_id="read_metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                             "description": "Prometheus text exposition format"}},
            description="Runs by state and work pool, queue depths, run durations, events "
                        "ingested, automation firings and action failures, the trigger "
                        "engine's lag: Prometheus text, read from Redis now.")
def metrics(request: Request) -> Response:
    """The Prometheus text of every family (see the module docstring)."""
    return Response(generate_latest(_registry(request.app)), media_type=CONTENT_TYPE_LATEST)
