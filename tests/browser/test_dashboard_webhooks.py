"""Webhook pages in a real browser: create one with the template's live preview, copy its
URL, fire it with httpx and see its event in the feed; disable, rotate the secret, delete."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.usefixtures("tc_env")

HOSTILE = "<img src=x onerror=\"window.pwned=1\">"


def _preview(page: Any) -> str:
    page.wait_for_function("document.getElementById('preview').dataset.rendered !== undefined")
    return str(page.inner_text("#preview"))


def test_create_a_webhook_with_a_preview_and_fire_it(start_server: Any,
                                                    browser_page: Any) -> None:
    server = start_server()
    page = browser_page
    page.goto(f"{server.url}/webhooks")
    assert "No webhooks yet" in page.inner_text("#hooks")
    # the sample body starts as {"order_id": 42, "status": "shipped"}
    page.wait_for_function("document.getElementById('preview').textContent.includes("
                           "'acme.order.shipped')")
    shown = json.loads(_preview(page))
    assert shown["event"] == "acme.order.shipped"
    assert shown["resource"]["tasks-core.resource.id"] == "acme.order.42"
    # the preview follows the sample body, and names what is wrong
    page.fill("textarea[name=sample_body]",
              json.dumps({"order_id": 7, "status": "paid", "note": HOSTILE}))
    page.wait_for_function("document.getElementById('preview').textContent.includes('order.7')")
    assert json.loads(page.inner_text("#preview"))["payload"]["note"] == HOSTILE  # text
    page.fill("textarea[name=template]", '{"event": "x", {% if %}')
    page.wait_for_function("document.getElementById('preview').classList.contains('failed')")
    assert "template" in page.inner_text("#preview")
    page.fill("textarea[name=template]",
              '{"event": "acme.order.{{ body.status }}", "resource": '
              '{"tasks-core.resource.id": "acme.order.{{ body.order_id }}"}, '
              '"payload": {{ body | tojson }}}')
    page.fill("textarea[name=sample_body]", '{"order_id": 9, "status": "paid"}')
    page.wait_for_function("document.getElementById('preview').textContent.includes("
                           "'acme.order.paid')")
    assert httpx.get(f"{server.url}/api/events", params={"event": "acme.order.*"}
                     ).json()["items"] == []  # previews write nothing

    page.fill("input[name=name]", "orders")
    page.click("#create-webhook button[type=submit]")
    page.locator("#secret-box").wait_for(state="visible", timeout=10_000)
    url = page.inner_text("#secret-url")
    secret = page.inner_text("#secret-value")
    assert url.startswith(f"{server.url}/hooks/") and secret.startswith("whsec_")
    row = page.locator('tr[data-webhook-name="orders"]')
    row.wait_for(timeout=10_000)
    assert url in row.inner_text()
    assert secret not in page.inner_text("#hooks")  # the list never shows secrets
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    copy = row.locator("button.copy")
    copy.click()
    # the label the click set, read in the same step that sees it change: it goes back to
    # "Copy" after 2 s, which a loaded machine can let pass before a second read
    said = page.wait_for_function("b => b.textContent !== 'Copy' && b.textContent",
                                  arg=copy.element_handle()).json_value()
    if said == "Copied":
        assert page.evaluate("navigator.clipboard.readText()") == url
    else:  # no clipboard access: the URL is selected for Ctrl+C
        assert said == "Selected: press Ctrl+C"
        assert page.evaluate("window.getSelection().toString()") == url

    fired = httpx.post(url, json={"order_id": 5, "status": "paid"},
                       headers={"Authorization": f"Bearer {secret}"})
    assert fired.status_code == 202, fired.text
    page.goto(f"{server.url}/events?event=acme.order.*")
    feed_row = page.locator(f'tr[data-event-id="{fired.json()["id"]}"]')
    assert "acme.order.paid" in feed_row.inner_text()
    assert "acme.order.5" in feed_row.inner_text()
    assert page.evaluate("window.pwned === undefined")


def test_disable_rotate_and_delete_from_the_page(start_server: Any, browser_page: Any) -> None:
    server = start_server()
    created = httpx.post(f"{server.url}/api/webhooks", json={
        "name": "gh", "template": '{"event": "a.b", "resource": '
                                  '{"tasks-core.resource.id": "a.{{ body.n }}"}}'}).json()
    page = browser_page
    page.goto(f"{server.url}/webhooks")
    row = page.locator(f'tr[data-webhook-id="{created["id"]}"]')
    # without clipboard access, Copy selects the URL instead
    page.evaluate("() => { navigator.clipboard.writeText = "
                  "() => Promise.reject(new Error('denied')); }")
    row.locator("button.copy").click()
    row.locator("button.copy", has_text="Selected: press Ctrl+C").wait_for(timeout=5_000)
    assert page.evaluate("window.getSelection().toString()") == created["url"]
    row.locator("button[data-action=disable]").click()
    row.locator(".enabled", has_text="disabled").wait_for(timeout=10_000)
    assert httpx.post(created["url"], json={"n": 1},
                      headers={"Authorization": f"Bearer {created['secret']}"}
                      ).status_code == 404
    row.locator("button[data-action=enable]").click()
    row.locator(".enabled", has_text="enabled").wait_for(timeout=10_000)

    row.locator("button[data-action=rotate]").click()
    page.locator("#secret-box").wait_for(state="visible", timeout=10_000)
    new_secret = page.inner_text("#secret-value")
    assert new_secret.startswith("whsec_") and new_secret != created["secret"]
    old = httpx.post(created["url"], json={"n": 1},
                     headers={"Authorization": f"Bearer {created['secret']}"})
    new = httpx.post(created["url"], json={"n": 1},
                     headers={"Authorization": f"Bearer {new_secret}"})
    assert (old.status_code, new.status_code) == (401, 202)

    page.goto(f"{server.url}/webhooks/{created['id']}")
    assert "a.{{ body.n }}" in page.inner_text("#hook-template")
    page.goto(f"{server.url}/webhooks")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'tr[data-webhook-id="{created["id"]}"] button[data-action=delete]').click()
    page.locator("#hooks", has_text="No webhooks yet").wait_for(timeout=10_000)
    assert httpx.get(f"{server.url}/api/webhooks").json() == []
