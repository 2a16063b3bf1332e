"""Action templates: native types for a lone expression, text otherwise, recursion, the
sandbox and its caps, compile-time refusal naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from tasks_core.errors import TemplateError
from tasks_core.events.actions import (
    ActionError,
    CallWebhook,
    ChangeFlowRunState,
    RunDeployment,
    SendNotification,
    TemplateContext,
    compile_templates,
    render_action,
    render_text,
    render_value,
)
from tasks_core.events.actions.templates import MAX_OUTPUT_CHARS, MAX_RANGE

CTX = TemplateContext(
    event={"id": "e1", "event": "acme.order.shipped",
           "resource": {"tasks-core.resource.id": "acme.order.42",
                        "tasks-core.resource.name": "order 42", "acme.user": "ann"},
           "related": [{"tasks-core.resource.id": "tasks-core.flow.etl",
                        "tasks-core.resource.role": "flow"}],
           "payload": {"count": 3, "ratio": 0.5, "items": ["a", "b"], "ok": True,
                       "nested": {"k": None}}},
    automation={"id": "a1", "name": "ship-it"},
    firing={"id": "f1", "count": 1},
)


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ event.payload.count }}", 3),
    ("  {{ event.payload.ratio }} ", 0.5),
    ("{{ event.payload['items'] }}", ["a", "b"]),
    ("{{ event.payload.ok }}", True),
    ("{{ event.payload.nested.k }}", None),
    ("{{ event.payload.count + 1 }}", 4),
    ("{{ event.payload }}", CTX.event["payload"]),
])
def test_a_lone_expression_keeps_its_json_type(source: str, expected: Any) -> None:
    assert render_value(source, CTX) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("n={{ event.payload.count }}", "n=3"),
    ("{{ event.payload.count }}{{ event.payload.count }}", "33"),
    ("{{ event.payload.count }} and {{ labels['acme.user'] }}", "3 and ann"),
    ("plain", "plain"),
    ("{% for i in event.payload['items'] %}{{ i }}{% endfor %}", "ab"),
])
def test_text_around_makes_a_string(source: str, expected: str) -> None:
    assert render_value(source, CTX) == expected


def test_resource_labels_read_as_attributes_and_by_key() -> None:
    assert render_text("{{ event.resource.id }}|{{ event.resource.name }}|"
                       "{{ labels['acme.user'] }}|{{ event.related[0].role }}|"
                       "{{ automation.name }}|{{ firing.id }}", CTX) == \
        "acme.order.42|order 42|ann|flow|ship-it|f1"


def test_names_the_event_does_not_name_are_none() -> None:
    assert render_value("{{ flow_run is none and deployment is none }}", CTX) is True


def test_dicts_and_lists_render_recursively_and_keys_stay() -> None:
    value = {"{{ not }}": ["{{ event.payload.count }}", {"x": "id {{ event.id }}"}], "n": 1}
    assert render_value(value, CTX) == {"{{ not }}": [3, {"x": "id e1"}], "n": 1}


def test_render_action_renders_each_templated_field() -> None:
    run = render_action(RunDeployment(deployment_name="a/b",
                                      parameters={"n": "{{ event.payload.count }}"}), CTX)
    assert isinstance(run, RunDeployment)
    assert run.parameters == {"n": 3}
    note = render_action(SendNotification(subject="{{ event.payload.count }}",
                                          body="for {{ automation.name }}"), CTX)
    assert isinstance(note, SendNotification)
    assert (note.subject, note.body) == ("3", "for ship-it")  # text fields stay strings
    hook = render_action(CallWebhook(url="http://h/", headers={"X": "{{ event.id }}"},
                                     payload="{{ event.payload.count }}"), CTX)
    assert isinstance(hook, CallWebhook)
    assert (hook.headers, hook.payload) == ({"X": "e1"}, "3")
    state = render_action(ChangeFlowRunState(state="FAILED", message="by {{ automation.id }}"),
                          CTX)
    assert isinstance(state, ChangeFlowRunState)
    assert state.message == "by a1"


@pytest.mark.parametrize(("source", "message"), [
    ("{{ ''.__class__ }}", "unsafe"),
    ("{{ event.__class__.__mro__ }}", "unsafe"),
    ("{{ event.payload['items'].append(1) }}", "unsafe"),
    ("{{ range(" + str(MAX_RANGE + 1) + ") | list | length }}", "over the cap of 10000"),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
     "loop iterations"),
    ("{{ 'ab' * 10000000 }}", "the cap"),
    ("{% for i in range(9000) %}{{ 'x' * 100 }}{% endfor %}", "over the cap"),
    ("{{ 2 ** 100000 }}", "exponent"),
    ("{{ missing.thing }}", "'missing' is undefined"),
    ("{{ event.payload.nope.deeper }}", "nope"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
])
def test_the_sandbox_and_caps_refuse(source: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render_value(source, CTX)


def test_output_cap_is_in_characters() -> None:
    assert MAX_OUTPUT_CHARS == 256 * 1024
    assert len(render_text("{{ 'x' * 1000 }}", CTX)) == 1000


def test_an_allowed_range_renders() -> None:
    assert render_value("{{ range(3) | list }}", CTX) == [0, 1, 2]


def test_render_action_names_the_field_of_an_error() -> None:
    with pytest.raises(TemplateError, match=r"^SendNotification: body: .*'nope' is undefined"):
        render_action(SendNotification(body="{{ nope }}"), CTX)


@pytest.mark.parametrize(("action", "field"), [
    (RunDeployment(deployment_name="a/b", parameters={"x": {"y": ["ok", "{{ a }"]}}),
     r"parameters\.x\.y\[1\]"),
    (SendNotification(body="{% if %}"), "body"),
    (SendNotification(subject="{{", body="x"), "subject"),
    (CallWebhook(url="http://h/", headers={"X": "{% endfor %}"}), r"headers\.X"),
    (ChangeFlowRunState(state="FAILED", message="{{ 1 + }}"), "message"),
])
def test_compile_refuses_a_syntax_error_naming_the_field(action: Any, field: str) -> None:
    with pytest.raises(ActionError, match=f"^{type(action).__name__}: {field}: invalid "
                                          f"template: .*\\(line 1\\)"):
        compile_templates(action)


def test_compile_accepts_good_templates() -> None:
    compile_templates(RunDeployment(deployment_name="a/b",
                                    parameters={"n": "{{ event.payload.count }}", "k": 1}))
