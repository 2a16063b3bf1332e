"""The dashboard's deployments and automations pages in a real browser, over a real server,
worker and beat: run a deployment from its page with a parameter, a 422 shown as text, pause
and resume, "+ Add" a trigger that fires on a real event, enable/disable, test the last hour."""

from __future__ import annotations

from typing import Any

import pytest

from tasks_core.runtime import get_runtime
from tests.browser.conftest import SHOTS
from tests.helpers import wait_until
from tests.integration import sample_flows as f

pytestmark = pytest.mark.usefixtures("tc_env")

HOSTILE = "<img src=x onerror=\"window.pwned=1\">"


def _state(run_id: str) -> str:
    return get_runtime().store.get(run_id).state.value


def test_run_a_deployment_from_its_page(tc_env: dict[str, Any], start_server: Any,
                                        start_worker: Any, browser_page: Any) -> None:
    deployment_id = f.pipeline.deploy("nightly", work_pool_name=tc_env["queue"],
                                      parameters={"lon": 5}, cron="0 3 * * *",
                                      description="Weather pipeline, nightly at 03:00 UTC")
    server = start_server()
    start_worker(concurrency=1, pool=tc_env["queue"])
    page = browser_page
    page.goto(f"{server.url}/deployments")
    row = page.locator(f'tr[data-deployment-id="{deployment_id}"]')
    assert "pipeline/nightly" in row.inner_text() and "cron 0 3 * * *" in row.inner_text()
    assert "no runs" in row.inner_text()
    row.locator("a", has_text="pipeline/nightly").click()
    page.wait_for_url(f"**/deployments/{deployment_id}")
    page.wait_for_function(
        "document.querySelector('#deployment-runs').dataset.liveState === 'connected'")
    # the form is generated from the stored schema: lat (number, required), lon (default 5)
    page.click("#run-open")
    assert page.locator("#run-fields input[name=lat][type=number]").count() == 1
    assert page.input_value("#run-fields input[name=lon]") == "5"
    # a value the flow refuses: the API's 422 is shown next to the form, as text
    page.evaluate("document.querySelector('#run-fields input[name=lat]').type = 'text'")
    page.fill("#run-fields input[name=lat]", "x")
    page.click("#run-form button[type=submit]")
    page.locator("#run-error").wait_for()
    wait_until(lambda: page.inner_text("#run-error") != "", timeout=10)
    assert "lat" in page.inner_text("#run-error")
    page.fill("#run-fields input[name=lat]", "2.5")
    page.click("#run-form button[type=submit]")
    page.locator("#run-created").wait_for()
    run_id = page.get_attribute("#run-link", "href").removeprefix("/flow-runs/")
    assert get_runtime().store.get(run_id).parameters == {"lat": 2.5, "lon": 5}
    assert wait_until(lambda: _state(run_id) == "Completed", timeout=30)
    # the recent runs update live to Completed
    page.locator(f'#recent tr[data-run-id="{run_id}"] .state-completed').wait_for(
        timeout=10_000)
    page.click("#run-open")  # the generated form, for the README's screenshot
    page.screenshot(path=_shot("deployment.png"), full_page=False)
    page.click("#run-cancel")
    # pause and resume from the page
    page.click("#paused button[data-action=pause]")
    page.locator("#paused button[data-action=resume]").wait_for()
    assert get_runtime().deployments.get(deployment_id).paused
    page.click("#paused button[data-action=resume]")
    page.locator("#paused button[data-action=pause]").wait_for()
    assert not get_runtime().deployments.get(deployment_id).paused
    page.goto(f"{server.url}/deployments")
    marks = page.locator(f'tr[data-deployment-id="{deployment_id}"] a.mark')
    assert marks.count() == 1 and marks.get_attribute("href") == f"/flow-runs/{run_id}"
    assert "state-completed" in (marks.get_attribute("class") or "")


def _shot(name: str) -> str:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return str(SHOTS / name)
