"""Work pool pages in a real browser: a pool's readiness from its worker's heartbeats,
pausing it from its page (a run sent to it parks), the concurrency form, resuming."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tasks_core import StateName
from tasks_core.deployments import run_deployment
from tasks_core.process_runtime import get_runtime
from tasks_core.work_pools import create_pool, pool_store
from tests.helpers import wait_until
from tests.integration import sample_flows as f

pytestmark = pytest.mark.usefixtures("tc_env")


def test_pause_a_pool_from_its_page_and_a_run_parks(start_server: Any, start_worker: Any,
                                                    browser_page: Any,
                                                    tc_env: dict[str, Any]) -> None:
    pool = tc_env["queue"]
    create_pool(pool, description="reports <b>pool</b>")
    f.pipeline.deploy("p", work_pool_name=pool)
    start_worker(concurrency=2, pool=pool)
    server = start_server()
    page = browser_page
    page.goto(f"{server.url}/work-pools")
    row = page.locator(f'tr[data-pool="{pool}"]')
    assert "Active" in row.inner_text()
    row.locator("a", has_text=pool).click()
    page.wait_for_url(f"**/work-pools/{pool}")
    assert "reports <b>pool</b>" in page.inner_text("main")  # shown as text
    wait_until(lambda: (page.reload(), page.inner_text("#pool-ready"))[1].startswith("ready"),
               15, 0.5, "the pool to be ready on the page")
    assert page.locator("#workers tr[data-node]").count() == 1

    page.click("button[data-action=pause]")
    page.locator("#pool-status", has_text="Paused").wait_for(timeout=10_000)
    assert pool_store().get(pool).paused
    run = run_deployment("pipeline/p", parameters={"lat": 1}, timeout=0)
    page.locator("#pool-parked", has_text="1").wait_for(timeout=20_000)  # live: no reload
    store = get_runtime().store
    assert store.get(run.id).state == StateName.PENDING

    page.fill("input[name=concurrency_limit]", "3")
    page.click("form.concurrency button")
    page.locator("#pool-limit", has_text="3").wait_for(timeout=10_000)
    assert httpx.get(f"{server.url}/api/work_pools/{pool}").json()["concurrency_limit"] == 3

    page.click("button[data-action=resume]")
    page.locator("#pool-status", has_text="Active").wait_for(timeout=10_000)
    assert store.wait(run.id, 30) and store.get(run.id).state == StateName.COMPLETED
    page.locator("#pool-parked", has_text="0").wait_for(timeout=10_000)


def test_a_bad_limit_is_shown_and_an_unknown_pool_is_404(start_server: Any,
                                                        browser_page: Any) -> None:
    create_pool("limited")
    server = start_server()
    page = browser_page
    page.goto(f"{server.url}/work-pools/limited")
    assert page.inner_text("#pool-ready").startswith("not ready")
    page.evaluate("document.querySelector('input[name=concurrency_limit]').removeAttribute('min')")
    page.fill("input[name=concurrency_limit]", "0")
    page.click("form.concurrency button")
    error = page.locator("#pool-error")
    error.wait_for(timeout=10_000)
    assert "concurrency_limit" in error.inner_text()
    assert pool_store().get("limited").concurrency_limit is None
    missing = httpx.get(f"{server.url}/work-pools/nope")
    assert missing.status_code == 404 and "work pool 'nope' not found" in missing.text
