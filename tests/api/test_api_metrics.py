"""`/metrics` through a real `tasks-core server`, with a real worker and beat on one Redis:
after runs (one failing), events and automation firings, the Prometheus text parses and
every family holds the values the store says."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tasks_core.automations import Automation
from tasks_core.deployment_models import WorkPool
from tasks_core.events import EventTrigger
from tasks_core.events.emit import emit_event
from tasks_core.process_runtime import get_runtime
from tasks_core.store.metrics import DURATION_BUCKETS
from tests.helpers import wait_until
from tests.integration import sample_flows, sample_tasks

pytestmark = pytest.mark.usefixtures("tc_env")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str, **headers: str) -> tuple[Samples, dict[str, str]]:
    """Every sample of /metrics by (name, labels), and each family's HELP text."""
    reply = httpx.get(f"{url}/metrics", headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    helps: dict[str, str] = {}
    for family in text_string_to_metric_families(reply.text):
        helps[family.name] = family.documentation
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, helps


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def by_name(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


def test_metrics_after_runs_events_and_firings(start_server: Any, start_worker: Any,
                                               start_beat: Any, tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    queue = tc_env["queue"]
    trigger = EventTrigger(expect={"acme.metrics.ping"})
    Automation("metrics-ok", trigger, [{"type": "do-nothing"}]).create()
    Automation("metrics-fail", trigger,
               [{"type": "call-webhook", "url": "http://127.0.0.1:9/refused"}]).create()
    server = start_server()
    start_worker(concurrency=1)
    start_beat()
    wait_until(lambda: value(scrape(server.url)[0],
                             "tasks_core_trigger_engine_pending_events") is not None,
               timeout=30, message="the trigger engine's consumer group")

    assert [sample_tasks.add.delay(i, 1).result(timeout=30) for i in range(2)] == [1, 2]
    failing = sample_tasks.divide.delay(1, 0)
    assert failing.wait(timeout=30).value == "Failed"
    sample_flows.loud_flow("one", return_state=True)
    assert sample_flows.hooked_flow(1, fail=True, return_state=True).name.value == "Failed"
    rt.pools.save(WorkPool(name="idlepool"))
    for _ in range(3):  # nobody consumes idlepool: they wait on its queue
        sample_tasks.add.apply_async((1, 1), queue="idlepool")
    for n in range(2):
        emit_event("acme.metrics.ping", {"tasks-core.resource.id": f"acme.ping.{n}"})
    rt.emitter.flush()

    def settled() -> Samples | None:
        samples, _ = scrape(server.url)
        fired = value(samples, "tasks_core_automation_firings_total", automation="metrics-ok")
        failed = value(samples, "tasks_core_automation_action_failures_total",
                       automation="metrics-fail", action="call-webhook")
        lag = value(samples, "tasks_core_trigger_engine_lag_events")
        return samples if (fired, failed, lag) == (2, 2, 0) else None

    samples = wait_until(settled, timeout=30, message="both pings acted on")
    assert value(samples, "tasks_core_automation_firings_total",
                 automation="metrics-fail") == 2
    assert value(samples, "tasks_core_trigger_engine_pending_events") == 0

    # runs by kind, state and pool: worker runs on the test's queue, flows in-process
    assert value(samples, "tasks_core_runs", kind="task", state="Completed",
                 work_pool=queue) == 2
    assert value(samples, "tasks_core_runs", kind="task", state="Failed",
                 work_pool=queue) == 1
    assert value(samples, "tasks_core_runs", kind="task", state="Pending",
                 work_pool="idlepool") == 3
    assert value(samples, "tasks_core_runs", kind="flow", state="Completed",
                 work_pool="(none)") == 1
    assert value(samples, "tasks_core_runs", kind="flow", state="Failed",
                 work_pool="(none)") == 1
    for kind in ("task", "flow"):  # every run of the ledger, once
        counted = sum(v for labels, v in by_name(samples, "tasks_core_runs").items()
                      if ("kind", kind) in labels)
        assert counted == len(rt.store.list_ids(kind, limit=1000))

    # queue depths
    assert value(samples, "tasks_core_queue_depth", work_pool="idlepool",
                 queue="idlepool") == 3
    assert value(samples, "tasks_core_queue_depth", work_pool=queue, queue=queue) == 0

    # run durations: cumulative buckets ending at +Inf == count
    task_ok = {"kind": "task", "work_pool": queue, "state": "Completed"}
    assert value(samples, "tasks_core_run_duration_seconds_count", **task_ok) == 2
    assert value(samples, "tasks_core_run_duration_seconds_count", kind="task",
                 work_pool=queue, state="Failed") == 1
    assert value(samples, "tasks_core_run_duration_seconds_count", kind="flow",
                 work_pool="(none)", state="Failed") == 1
    total = value(samples, "tasks_core_run_duration_seconds_sum", **task_ok)
    assert total is not None and 0 < total < 30
    bounds = [f"{b:g}" for b in DURATION_BUCKETS] + ["+Inf"]
    counts = [value(samples, "tasks_core_run_duration_seconds_bucket", le=le, **task_ok)
              for le in bounds]
    assert None not in counts and counts == sorted(counts) and counts[-1] == 2

    # events: every entry the stream received (nothing trimmed in this test, so XLEN); beat
    # and the worker may still be writing (buffered events): bracket the scrape
    before = rt.events.length()
    ingested = value(scrape(server.url)[0], "tasks_core_events_ingested_total")
    assert ingested is not None and 2 < before <= ingested <= rt.events.length()


def test_metrics_text_has_help_and_follows_the_api_key(start_server: Any) -> None:
    open_server = start_server()
    samples, helps = scrape(open_server.url)
    names = {"tasks_core_runs", "tasks_core_queue_depth", "tasks_core_run_duration_seconds",
             "tasks_core_events_ingested", "tasks_core_automation_firings",
             "tasks_core_automation_action_failures"}
    assert names <= set(helps) and all(helps[name] for name in names)
    assert all(name.startswith("tasks_core_") for name, _ in samples)
    # no engine has started on this stream: no lag figure rather than a made-up one
    assert "tasks_core_trigger_engine_lag_events" not in helps

    keyed = start_server(api_key="m3trics")
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        assert httpx.get(f"{keyed.url}/metrics", headers=headers).status_code == 401
    scrape(keyed.url, Authorization="Bearer m3trics")
    assert httpx.get(f"{keyed.url}/api/metrics").status_code == 404  # at the root only
