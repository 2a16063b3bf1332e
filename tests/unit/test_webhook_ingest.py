"""Webhook model checks and request -> event (pure): context, templates, CloudEvents."""

from __future__ import annotations

import json
import uuid

import pytest

from tasks_core.errors import ValidationError
from tasks_core.events.schema import EventLimits
from tasks_core.webhooks.ingest import HookRequest, make_event, parse_body, template_context
from tasks_core.webhooks.model import Webhook, WebhookError, WebhookSpec

STATIC = json.dumps({"event": "acme.ping", "resource": {"tasks-core.resource.id": "acme.x"}})
LIMITS = EventLimits()


def _hook(template: str | None = STATIC, **fields: object) -> Webhook:
    return Webhook(name="hook", template=template, **fields)  # type: ignore[arg-type]


def _request(body: bytes = b"", content_type: str = "", method: str = "POST",
             headers: dict[str, str] | None = None, query: str = "") -> HookRequest:
    all_headers = dict(headers or {})
    if content_type:
        all_headers["content-type"] = content_type
    pairs = [tuple(p.split("=", 1)) for p in query.split("&") if p]
    return HookRequest(method=method, url="http://127.0.0.1:4200/hooks/abcdefgh",
                       headers=all_headers, query=pairs, body=body)  # type: ignore[arg-type]


# -- the model ----------------------------------------------------------------------------


def test_defaults_random_slug_post_and_get_bearer() -> None:
    one, two = _hook(), _hook()
    assert one.slug != two.slug and len(one.slug) >= 16
    assert one.methods == ["POST", "GET"] and one.auth == "bearer" and one.enabled


@pytest.mark.parametrize("fields, message", [
    ({"template": "{{ body.x "}, "invalid template"),
    ({"template": '{"event": "x"}'}, "resource"),  # static: checked as an event now
    ({"template": "not json"}, "must be JSON"),
    ({"template": "[1, 2]"}, "JSON object"),
    ({"template": None}, "a template is needed"),
    ({"methods": ["POST", "TRACE"]}, "methods"),
    ({"slug": "a/b"}, "slug"),
    ({"auth": "basic"}, "auth"),
])
def test_bad_specs_are_refused_naming_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises((WebhookError, ValueError), match=message):
        WebhookSpec.model_validate({"name": "hook", "template": STATIC, **fields})


def test_methods_given_as_text_are_upper_cased() -> None:
    assert WebhookSpec(name="h", template=STATIC, methods="post, put").methods == ["POST", "PUT"]  # type: ignore[arg-type]


def test_a_cloudevents_webhook_may_go_without_a_template() -> None:
    assert WebhookSpec(name="h", cloudevents=True).template is None


# -- the context --------------------------------------------------------------------------


def test_body_parsing_by_content_type() -> None:
    assert parse_body("application/json", b'{"a": [1]}') == {"a": [1]}
    assert parse_body("application/vnd.x+json", b"3") == 3
    assert parse_body("application/x-www-form-urlencoded", b"a=1&b=2&a=3") == {
        "a": ["1", "3"], "b": "2"}
    assert parse_body("text/plain", b'{"a": 1}') == '{"a": 1}'
    assert parse_body("", b'{"a": 1}') == {"a": 1}  # no type: JSON when it parses
    assert parse_body("", b"hello") == "hello"
    with pytest.raises(ValidationError, match="not valid JSON"):
        parse_body("application/json", b"{oops")
    with pytest.raises(ValidationError, match="nested too deeply"):
        parse_body("application/json", b"[" * 100_000 + b"]" * 100_000)
    assert parse_body("", b"[" * 100_000) == "[" * 100_000  # no type: kept as text


def test_context_hides_the_authorization_header() -> None:
    context = template_context(_request(b"hi", "text/plain", headers={
        "authorization": "Bearer s3cret", "x-a": "1"}, query="q=1&q=2"))
    assert context["headers"] == {"x-a": "1", "content-type": "text/plain"}
    assert context["query"] == {"q": ["1", "2"]} and context["body"] == "hi"
    assert context["raw_body"] == "hi" and context["method"] == "POST"
    assert context["url"].endswith("/hooks/abcdefgh")


# -- templates ----------------------------------------------------------------------------


def test_a_static_template_makes_its_event_with_the_webhook_related() -> None:
    hook = _hook()
    event = make_event(hook, _request(), LIMITS)
    assert event.event == "acme.ping" and event.resource_id == "acme.x"
    assert event.related == [{"tasks-core.resource.id": f"tasks-core.webhook.{hook.id}",
                              "tasks-core.resource.role": "webhook",
                              "tasks-core.resource.name": "hook"}]


def test_a_template_reads_body_headers_query_and_method() -> None:
    template = ('{"event": "acme.{{ body.kind }}", "resource": {"prefect.resource.id": '
                '"prefect.flow.{{ query.flow }}"}, "payload": {"n": {{ body.n | tojson }}, '
                '"who": {{ headers["x-who"] | tojson }}, "m": "{{ method }}"}}')
    event = make_event(_hook(template), _request(
        b'{"kind": "order", "n": [1, 2]}', "application/json", headers={"x-who": 'a"b'},
        query="flow=etl"), LIMITS)
    assert event.event == "acme.order"
    assert event.resource == {"tasks-core.resource.id": "tasks-core.flow.etl"}  # Prefect's
    assert event.payload == {"n": [1, 2], "who": 'a"b', "m": "POST"}


@pytest.mark.parametrize("template, body, reason", [
    ('{"event": "{{ body.x }}", "resource": {}}', b'{"x": "a"}', "tasks-core.resource.id"),
    ('{"event": "a", {{ body.x }}}', b'{"x": 1}', "rendered invalid JSON"),
    ('{"event": "a", "resource": {"tasks-core.resource.id": "{{ body.missing }}"}}',
     b"{}", "missing"),
    ('{{ body.x | tojson }}', b'{"x": [1]}', "not an object"),
    ('{"event": "a", "resource": {"tasks-core.resource.id": "r"}, "extra": {{ body.x }}}',
     b'{"x": 1}', "unknown event field"),
    ('{"event": "a", "resource": {"tasks-core.resource.id": "r"}, "payload": {{ body.x }}}',
     b'{"x": 1}', "payload must be a JSON object"),
    ('{"event": "a", "resource": {"tasks-core.resource.id": "r"}, "related": [{{ body.x }}]}',
     b'{"x": 1}', "related must be a list of objects"),
    ('{"event": "a", "resource": {"tasks-core.resource.id": {{ body.x }}}}',
     b'{"x": 1}', "string"),
    ('{"event": "{{ body.x }}", "resource": {"tasks-core.resource.id": "r"}}',
     b'{"x": 1}', None),
])
def test_bad_renders_name_the_reason(template: str, body: bytes, reason: str | None) -> None:
    hook = _hook(template)
    if reason is None:  # a number spelled in a string is a valid event name
        assert make_event(hook, _request(body, "application/json"), LIMITS).event == "1"
        return
    with pytest.raises(ValidationError, match=reason):
        make_event(hook, _request(body, "application/json"), LIMITS)


def test_the_sandbox_refuses_internals() -> None:
    template = ('{"event": "{{ body.__class__.__mro__ }}", "resource": '
                '{"tasks-core.resource.id": "r"}}')
    with pytest.raises(ValidationError, match="not allowed in a template: access to attribute"):
        make_event(_hook(template), _request(b"{}", "application/json"), LIMITS)


def test_event_limits_apply() -> None:
    template = ('{"event": "a", "resource": {"tasks-core.resource.id": "r"}, '
                '"payload": {"big": {{ body | tojson }}}}')
    with pytest.raises(ValidationError, match="event_payload_max_bytes"):
        make_event(_hook(template), _request(b'"' + b"x" * 300 + b'"', "application/json"),
                   EventLimits(payload_max_bytes=100))


# -- CloudEvents --------------------------------------------------------------------------


CE = {"specversion": "1.0", "id": "A234-1234", "source": "https://example.com/orders",
      "type": "com.example.order.created", "time": "2024-04-05T17:31:00Z",
      "subject": "order-7", "datacontenttype": "application/json", "data": {"n": 7},
      "traceparent": "00-abc"}


def test_a_structured_cloudevent_maps_to_an_event() -> None:
    hook = _hook(None, cloudevents=True)
    event = make_event(hook, _request(json.dumps(CE).encode(),
                                      "application/cloudevents+json"), LIMITS)
    assert event.id == str(uuid.uuid5(uuid.NAMESPACE_URL,
                                      "https://example.com/orders A234-1234"))
    assert event.event == "com.example.order.created"
    assert event.occurred.isoformat() == "2024-04-05T17:31:00+00:00"
    assert event.resource == {"tasks-core.resource.id": "https://example.com/orders",
                              "cloudevents.subject": "order-7"}
    assert event.payload["data"] == {"n": 7}
    assert event.payload["cloudevent"]["traceparent"] == "00-abc"
    assert "data" not in event.payload["cloudevent"]
    assert event.related_ids() == [f"tasks-core.webhook.{hook.id}"]


def test_a_binary_cloudevent_maps_to_the_same_event() -> None:
    headers = {"ce-specversion": "1.0", "ce-id": "A234-1234",
               "ce-source": "https://example.com/orders",
               "ce-type": "com.example.order.created", "ce-time": "2024-04-05T17:31:00Z",
               "ce-subject": "order-7"}
    hook = _hook(None, cloudevents=True)
    binary = make_event(hook, _request(b'{"n": 7}', "application/json", headers=headers),
                        LIMITS)
    structured = make_event(hook, _request(json.dumps(CE).encode(),
                                           "application/cloudevents+json"), LIMITS)
    assert (binary.id, binary.event, binary.occurred, binary.resource) == (
        structured.id, structured.event, structured.occurred, structured.resource)
    assert binary.payload["data"] == {"n": 7}


@pytest.mark.parametrize("change, reason", [
    ({"type": None}, "type"), ({"id": ""}, "id"), ({"specversion": "0.3"}, "specversion"),
    ({"time": "yesterday"}, "occurred"),
])
def test_bad_cloudevents_are_refused(change: dict[str, object], reason: str) -> None:
    body = {k: v for k, v in {**CE, **change}.items() if v is not None}
    with pytest.raises(ValidationError, match=reason):
        make_event(_hook(None, cloudevents=True),
                   _request(json.dumps(body).encode(), "application/cloudevents+json"), LIMITS)


def test_a_cloudevents_webhook_without_a_template_refuses_plain_requests() -> None:
    with pytest.raises(ValidationError, match="not a CloudEvent"):
        make_event(_hook(None, cloudevents=True), _request(b"{}", "application/json"), LIMITS)
    # with a template, a plain request goes through it
    event = make_event(_hook(STATIC, cloudevents=True), _request(b"{}"), LIMITS)
    assert event.event == "acme.ping"
