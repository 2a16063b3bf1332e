"""The dashboard's flow-run list in a real browser: filters, counts, live updates, escaping,
and the login when an API key is set."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tasks_core import flow
from tests.integration import sample_flows

pytestmark = pytest.mark.usefixtures("tc_env")


HOSTILE = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>"


@flow(tags=[HOSTILE])
def tagged_flow() -> int:
    return 1


def test_flow_runs_list_filters_and_updates_live(start_server: Any, browser_page: Any) -> None:
    server = start_server()
    first = sample_flows.loud_flow("one", return_state=True)
    page = browser_page
    page.goto(f"{server.url}/")
    assert page.url.endswith("/flow-runs")
    row = page.locator(f'tr[data-run-id="{first.run_id}"]')
    row.wait_for()
    assert "Completed" in row.inner_text() and "loud-flow" in row.inner_text()
    # a run that starts while the page is open appears without a reload
    page.wait_for_function("document.querySelector('#runs').dataset.liveState === 'connected'")
    second = sample_flows.loud_flow("two", return_state=True)
    page.locator(f'tr[data-run-id="{second.run_id}"]').wait_for(timeout=10_000)
    # filters
    page.select_option("select[name=state]", "Failed")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**state=Failed**")
    assert page.locator("tr[data-run-id]").count() == 0
    assert "No flow runs match." in page.inner_text("#runs")


def test_user_values_are_shown_as_text(start_server: Any, browser_page: Any) -> None:
    server = start_server()
    hostile = HOSTILE
    state = tagged_flow(return_state=True)
    page = browser_page
    page.goto(f"{server.url}/flow-runs")
    row = page.locator(f'tr[data-run-id="{state.run_id}"]')
    row.wait_for()
    assert hostile in row.inner_text()  # the markup is text, not elements
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("#runs img").count() == 0


def test_the_dashboard_asks_for_the_api_key(start_server: Any, browser_page: Any) -> None:
    server = start_server(api_key="dash-key")
    page = browser_page
    page.goto(f"{server.url}/flow-runs?state=Completed")
    assert "/login" in page.url
    page.fill("input[name=api_key]", "wrong")
    page.click("form.login button")
    assert "That is not the API key" in page.inner_text("main")
    page.fill("input[name=api_key]", "dash-key")
    page.click("form.login button")
    page.wait_for_url("**/flow-runs?state=Completed")
    cookie = next(c for c in page.context.cookies() if c["name"] == "tc_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # the page's session works for the API (a read), and a write needs the CSRF token
    status = page.evaluate("fetch('/api/flow_runs').then(r => r.status)")
    assert status == 200
    no_token = page.evaluate(
        "fetch('/api/work_pools', {method: 'POST', headers: {'Content-Type': "
        "'application/json'}, body: JSON.stringify({name: 'x'})}).then(r => r.status)")
    assert no_token == 403
    with_token = page.evaluate(
        "tasksCore.api('POST', '/api/work_pools', {name: 'from-page'}).then(r => r.name)")
    assert with_token == "from-page"
    # outside the browser: no cookie, no key -> 401
    assert httpx.get(f"{server.url}/api/flow_runs").status_code == 401


def test_cross_site_writes_are_refused(start_server: Any) -> None:
    server = start_server()
    forged = httpx.post(f"{server.url}/api/work_pools", json={"name": "evil"},
                        headers={"Origin": "https://evil.example",
                                 "Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403 and "cross-site" in forged.json()["detail"]
    plain = httpx.post(f"{server.url}/api/work_pools", json={"name": "fine"})  # curl-like
    assert plain.status_code == 201
