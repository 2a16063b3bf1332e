"""The webhook preview: a template and a sample request -> the event /hooks would make."""

from __future__ import annotations

import json

import pytest

from tasks_core.errors import ValidationError
from tasks_core.events.schema import Event, EventLimits
from tasks_core.webhooks.preview import DRAFT_ID, PreviewRequest, preview_event

TEMPLATE = ('{"event": "acme.{{ body.kind }}", "resource": {"tasks-core.resource.id": '
            '"acme.repo.{{ body.repo }}"}, "payload": {"q": {{ query.x | tojson }}, '
            '"m": "{{ method }}", "agent": "{{ headers["user-agent"] }}"}}')


def _preview(**fields: object) -> Event:
    return preview_event(PreviewRequest.model_validate(fields), base_url="http://h:1/",
                         limits=EventLimits(), body_max_bytes=1000)


def test_the_template_renders_the_sample_request() -> None:
    event = _preview(template=TEMPLATE, body=json.dumps({"kind": "push", "repo": "core"}),
                     query="x=1", method="PUT", headers={"User-Agent": "curl"},
                     name="gh")
    assert event.event == "acme.push"
    assert event.resource_id == "acme.repo.core"
    assert event.payload == {"q": "1", "m": "PUT", "agent": "curl"}
    assert event.related == [{"tasks-core.resource.id": f"tasks-core.webhook.{DRAFT_ID}",
                              "tasks-core.resource.role": "webhook",
                              "tasks-core.resource.name": "gh"}]


@pytest.mark.parametrize(("fields", "reason"), [
    ({"template": '{"event": "x", {% if %}'}, "template"),
    ({"template": '{"event": "x"}'}, "the event needs resource"),
    ({"template": TEMPLATE, "body": "{not json"}, "the body is not valid JSON"),
    ({"template": TEMPLATE, "body": "x" * 1001}, "over the limit of 1000 bytes"),
    ({"template": None, "body": "{}"}, "not a CloudEvent"),
])
def test_no_event_gives_the_reason(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        _preview(**fields)


def test_a_cloudevent_is_taken_as_is() -> None:
    body = json.dumps({"specversion": "1.0", "id": "1", "source": "acme.src", "type": "a.b",
                       "data": {"k": 1}})
    event = _preview(cloudevents=True, body=body,
                     headers={"Content-Type": "application/cloudevents+json"})
    assert event.event == "a.b" and event.payload["data"] == {"k": 1}
