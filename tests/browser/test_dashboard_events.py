"""The event feed in a real browser: an emitted event arrives live, its page links to the
resources it names and its Raw tab shows the exact stored JSON, and markup in a payload is
shown as text."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tasks_core.run_event_codec import entry_text
from tests.browser.conftest import SHOTS

pytestmark = pytest.mark.usefixtures("tc_env")

HOSTILE = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>"


def _emit(server: Any, **event: Any) -> str:
    reply = httpx.post(f"{server.url}/api/events", json=event)
    assert reply.status_code == 202, reply.text
    return str(reply.json()["id"])


def test_an_emitted_event_arrives_live_and_opens_raw(start_server: Any,
                                                     browser_page: Any,
                                                     tc_env: dict[str, Any]) -> None:
    server = start_server()
    _emit(server, event="acme.order.placed", resource={"tasks-core.resource.id": "acme.order.1"},
          payload={"total": 12})
    page = browser_page
    page.goto(f"{server.url}/events")
    assert "acme.order.placed" in page.inner_text("#events")
    page.wait_for_function("document.querySelector('#events').dataset.liveState === 'connected'")
    event_id = _emit(
        server, event="acme.order.shipped",
        resource={"tasks-core.resource.id": "acme.order.2", "tasks-core.resource.name": "two"},
        related=[{"tasks-core.resource.id": "tasks-core.work-pool.reports",
                  "tasks-core.resource.role": "work-pool"},
                 {"tasks-core.resource.id": "acme.customer.9",
                  "tasks-core.resource.role": "customer"}],
        payload={"carrier": "ups", "items": [1, 2]})
    row = page.locator(f'tr[data-event-id="{event_id}"]')
    row.wait_for(timeout=10_000)  # no reload: the live region fetched it
    assert "acme.order.shipped" in row.inner_text() and '"carrier":"ups"' in row.inner_text()
    assert page.locator("tr[data-event-id]").first.get_attribute("data-event-id") == event_id
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "event-feed.png", full_page=False)

    row.locator("a", has_text="acme.order.shipped").click()
    page.wait_for_url(f"**/events/{event_id}?at=*")
    related = page.locator("#related")
    assert related.locator('a[href="/work-pools/reports"]').count() == 1
    assert related.locator("a", has_text="acme.customer.9").count() == 0  # not ours: text
    assert "acme.customer.9" in related.inner_text()
    assert json.loads(page.inner_text("#payload")) == {"carrier": "ups", "items": [1, 2]}
    assert not page.locator("#raw").is_visible()
    page.click("button[data-tab=raw]")
    assert page.locator("#raw").is_visible()
    client = tc_env["client"]
    stored = [fields["event"] for _id, fields in
              client.xrange(f"{tc_env['prefix']}:events")
              if json.loads(entry_text(fields) or "")["id"] == event_id]
    assert page.inner_text("#raw") == stored[0]


def test_a_hostile_payload_is_shown_as_text(start_server: Any, browser_page: Any) -> None:
    server = start_server()
    event_id = _emit(server, event="acme.evil", payload={"html": HOSTILE},
                     resource={"tasks-core.resource.id": "acme.x",
                               "tasks-core.resource.name": HOSTILE})
    page = browser_page
    page.goto(f"{server.url}/events")
    row = page.locator(f'tr[data-event-id="{event_id}"]')
    assert HOSTILE in row.inner_text()
    page.goto(f"{server.url}/events/{event_id}")
    assert HOSTILE in page.inner_text("#resource")
    assert json.loads(page.inner_text("#payload")) == {"html": HOSTILE}
    page.click("button[data-tab=raw]")
    assert HOSTILE in json.loads(page.inner_text("#raw"))["payload"]["html"]
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("main img").count() == 0


def test_a_bad_filter_is_named_and_an_unknown_event_is_404(start_server: Any) -> None:
    server = start_server()
    bad = httpx.get(f"{server.url}/events", params={"since": "yesterday-ish"})
    assert bad.status_code == 200 and "since:" in bad.text
    assert httpx.get(f"{server.url}/events/no-such-id").status_code == 404
