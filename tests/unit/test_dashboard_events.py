"""The event pages' pure helpers: links to our resources, payload previews."""

from __future__ import annotations

from tasks_core.dashboard.events import PREVIEW_CHARS, payload_preview, resource_link


def test_resources_of_ours_link_to_their_pages() -> None:
    assert resource_link("tasks-core.flow-run.abc") == "/flow-runs/abc"
    assert resource_link("tasks-core.task-run.t1") == "/task-runs/t1"
    assert resource_link("tasks-core.deployment.d-1") == "/deployments/d-1"
    assert resource_link("tasks-core.automation.a") == "/automations/a"
    assert resource_link("tasks-core.work-pool.reports") == "/work-pools/reports"
    assert resource_link("tasks-core.webhook.w9") == "/webhooks/w9"


def test_an_id_cannot_walk_to_another_path() -> None:
    assert resource_link("tasks-core.flow-run.x/../../api/webhooks?a=") == \
        "/flow-runs/x%2F..%2F..%2Fapi%2Fwebhooks%3Fa%3D"


def test_other_ids_have_no_link() -> None:
    assert resource_link("acme.order.1") is None
    assert resource_link("tasks-core.flow.abc") is None  # no page for flows
    assert resource_link("tasks-core.flow-run.") is None
    assert resource_link("prefect.flow-run.abc") is None


def test_a_payload_preview_is_compact_and_cut() -> None:
    assert payload_preview({"a": [1, 2], "b": "é"}) == '{"a":[1,2],"b":"é"}'
    long = payload_preview({"text": "x" * 500})
    assert len(long) == PREVIEW_CHARS and long.endswith("…")


def test_an_event_link_carries_when_it_was_received() -> None:
    from datetime import UTC, datetime

    from tasks_core.dashboard.events import event_href
    from tasks_core.events.schema import Event

    moment = datetime(2026, 1, 2, tzinfo=UTC)
    event = Event(id="a/b c", event="x", resource={"tasks-core.resource.id": "r"},
                  received=moment)
    assert event_href(event) == f"/events/a%2Fb%20c?at={int(moment.timestamp() * 1000)}"
