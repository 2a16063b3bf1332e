"""The course lab's stretch 2, end to end: "Create a webhook. Create an automation that
pauses work when the webhook fires."

Real processes throughout: redis-server, `tasks-core server` (the webhook's endpoint),
`tasks-core beat` (the trigger engine), a `tasks-core worker` on the pool, the CLI for
the webhook, and plain HTTP requests as an outside system (curl) would send them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tasks_core.automations import Automation
from tasks_core.deployments import run_deployment
from tasks_core.events.actions import PauseWorkPool
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.events.triggers import EventTrigger
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName
from tasks_core.work_pools import create_pool, pool_store, resume_pool
from tests.e2e.test_trigger_engine import _engine_ready
from tests.helpers import run_cli, wait_until
from tests.integration import sample_flows

TEMPLATE = json.dumps({
    "event": "ops.pause-requested",
    "resource": {"tasks-core.resource.id": "ops.pager.{{ body.source }}"},
    "payload": {"reason": "{{ body.reason }}", "pool": "{{ body.pool }}"},
})


def test_a_webhook_pauses_a_work_pool_and_a_run_waits_until_it_resumes(
        tc_env: dict[str, Any], start_server: Any, start_beat: Any, start_worker: Any) -> None:
    pool = tc_env["queue"]
    create_pool(pool)
    sample_flows.pipeline.deploy("lab", work_pool_name=pool)
    server = start_server()
    start_worker(concurrency=1, pool=pool, imports=("tests.integration.sample_flows",))
    start_beat()
    _engine_ready(tc_env)

    # 1. the webhook, from the CLI: its URL and secret are printed once
    created = run_cli({**tc_env["env"], "TASKS_CORE_SERVER_PORT": str(server.port)},
                      "webhook", "create", "pager", "--template-json", TEMPLATE, "--json")
    assert created.returncode == 0, created.stderr
    hook = json.loads(created.stdout)
    assert hook["url"] == f"{server.url}/hooks/{hook['slug']}"

    # 2. the automation: when the webhook's event arrives, pause the pool it names
    Automation("pause on page", EventTrigger(expect={"ops.pause-requested"}),
               [PauseWorkPool(work_pool_name=pool)]).create()
    time.sleep(1.0)  # a created automation takes effect within 1 s (change message)

    # 3. an outside system fires the webhook (as `curl -X POST URL -H ... -d ...` would)
    body = {"source": "grafana", "reason": "disk full", "pool": pool}
    unsigned = httpx.post(hook["url"], json=body)
    assert unsigned.status_code == 401  # no secret, nothing written, nothing paused
    fired = httpx.post(hook["url"], json=body,
                       headers={"Authorization": f"Bearer {hook['secret']}"})
    assert fired.status_code == 202, fired.text
    event_id = fired.json()["id"]

    # 4. the pool is paused by the automation
    wait_until(lambda: pool_store().get(pool).paused, 30, 0.1, "the pool to be paused")
    [stored] = list_events(get_runtime().events, EventFilter(events=("ops.pause-requested",)),
                           limit=10)
    assert stored.id == event_id
    assert stored.payload == {"reason": "disk full", "pool": pool}
    assert stored.resource["tasks-core.resource.id"] == "ops.pager.grafana"
    assert any(r["tasks-core.resource.role"] == "webhook" for r in stored.related)

    # 5. a run sent to the pool waits (Pending, parked) until the pool is resumed
    run = run_deployment("pipeline/lab", parameters={"lat": 1.0}, timeout=0)
    store = get_runtime().store
    wait_until(lambda: pool_store().parked(pool) == [run.id], 30, 0.1, "the run to park")
    time.sleep(1.0)
    assert store.get(run.id).state == StateName.PENDING
    resume_pool(pool)
    assert store.wait(run.id, 30) and store.get(run.id).state == StateName.COMPLETED
