"""The Automation model, the automations a deployment's triggers make, and automation files
(pure: no Redis)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tasks_core.automations import Automation, AutomationError
from tasks_core.automations.files import load_automations
from tasks_core.automations.owned import deployment_trigger, plan_owned, trigger_json
from tasks_core.cli.automations import automations_table, trigger_summary
from tasks_core.deployment_models import Deployment
from tasks_core.errors import ConfigurationError, ValidationError
from tasks_core.events import (
    CompoundTrigger,
    DeploymentCompoundTrigger,
    DeploymentEventTrigger,
    EventTrigger,
    SequenceTrigger,
    TriggerError,
)
from tasks_core.events.actions import DoNothing, RunDeployment, SendNotification

RID = "tasks-core.resource.id"
ON_ORDERS = {"expect": ["acme.order.*"]}
NOTHING = [{"type": "do-nothing"}]


def test_positional_fields_defaults_and_prefect_spellings() -> None:
    a = Automation("on completions", {"expect": "prefect.flow-run.Completed",
                                      "match_related": {"prefect.resource.id": "prefect.flow.*"}},
                   {"type": "do-nothing"})
    assert a.name == "on completions" and a.enabled and a.description == "" and a.tags == []
    assert a.trigger == EventTrigger(expect={"tasks-core.flow-run.Completed"},
                                     match_related={RID: "tasks-core.flow.*"})
    assert a.actions == [DoNothing()] and a.owner_deployment_id is None
    assert len(a.id) == 36 and a.created.tzinfo is not None


def test_a_deployment_trigger_is_taken_as_its_plain_trigger() -> None:
    trigger = DeploymentEventTrigger(name="n", parameters={"x": 1}, expect={"a"})
    assert Automation("a", trigger, NOTHING).trigger == EventTrigger(expect={"a"})


def test_json_round_trip_keeps_every_field() -> None:
    a = Automation(
        "notify", CompoundTrigger(require=2, within=60, triggers=[
            EventTrigger(expect={"a.*"}, for_each={"prefect.resource.id"}, threshold=3,
                         within=30),
            SequenceTrigger(triggers=[EventTrigger(expect={"b"}),
                                      EventTrigger(expect={"c"}, posture="Proactive",
                                                   within=20)])]),
        [RunDeployment(deployment_name="etl/daily", parameters={"n": "{{ event.payload.n }}"},
                       schedule_after=5),
         SendNotification(to="json://localhost:1/x", subject="s {{ event.event }}", body="b")],
        description="d", enabled=False, tags=["ops", "ops", " b "],
        owner_deployment_id="dep-1")
    text = a.model_dump_json()
    back = Automation.model_validate_json(text)
    assert back == a and back.model_dump_json() == text
    assert a.tags == ["b", "ops"]
    stored = json.loads(text)
    assert stored["trigger"]["triggers"][0]["for_each"] == [RID]
    assert stored["actions"][0]["schedule_after"] == 5.0


def _refusal(**fields: Any) -> str:
    data: dict[str, Any] = {"name": "x", "trigger": ON_ORDERS, "actions": NOTHING, **fields}
    with pytest.raises(AutomationError) as info:
        Automation(**data)
    assert isinstance(info.value, ValidationError)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize(("fields", "fragments"), [
    ({"name": " "}, ["automation: name: must not be empty"]),
    ({"name": "x" * 201}, ["name: must be at most 200 characters"]),
    ({"name": "a\nb"}, ["name: must be one line"]),
    ({"trigger": {"expect": ["a"], "posture": "Sideways"}},
     ["automation 'x': trigger:", "posture: must be 'Reactive' or 'Proactive'"]),
    ({"trigger": {"expect": ["a"], "threshold": 0}}, ["trigger:", "threshold: must be at least 1"]),
    ({"trigger": {"expect": ["a"], "within": -1}}, ["trigger:", "within: must be >= 0 s"]),
    ({"trigger": {"expect": ["a"], "posture": "Proactive", "within": 5}},
     ["trigger:", "Proactive trigger must be at least 10 s, got 5 s"]),
    ({"trigger": {"require": 3, "triggers": [ON_ORDERS]}},
     ["trigger:", "require must be between 1 and the number of triggers (1), got 3"]),
    ({"trigger": {"expect": ["a["]}}, ["trigger:", "expect: glob 'a['"]),
    ({"trigger": {"expect": []}}, ["trigger:", "expect: is empty"]),
    ({"trigger": {"match": {"prefect.resource.id": "!"}, "expect": ["a"]}}, ["trigger:", "match"]),
    ({"actions": []}, ["actions: an automation needs at least one action"]),
    ({"actions": [{"type": "launch-rocket"}]},
     ["actions: action 0: unknown action type 'launch-rocket'"]),
    ({"actions": [{"type": "do-nothing"}, {"type": "run-deployment", "deployment_name": "a/b",
                                           "schedule_after": -1}]},
     ["actions: action 1: RunDeployment: schedule_after: must be >= 0 s"]),
    ({"actions": [{"type": "run-deployment", "deployment_name": "a/b",
                   "parameters": {"n": "{{ event.payload.n "}}]},
     ["action 0: RunDeployment: parameters.n: invalid template"]),
    ({"actions": [{"type": "send-notification", "body": "{% for %}"}]},
     ["action 0: SendNotification: body: invalid template"]),
    ({"colour": "red"}, ["colour: Extra inputs are not permitted"]),
])
def test_refusals_name_the_field(fields: dict[str, Any], fragments: list[str]) -> None:
    message = _refusal(**fields)
    for fragment in fragments:
        assert fragment in message, message


def test_positional_misuse_is_refused() -> None:
    with pytest.raises(AutomationError, match="at most 3 positional"):
        Automation("a", ON_ORDERS, NOTHING, "too many")
    with pytest.raises(AutomationError, match="got 'name' twice"):
        Automation("a", name="b", trigger=ON_ORDERS, actions=NOTHING)


def _deployment(*triggers: Any) -> Deployment:
    return Deployment(id="dep-1", name="ticker-deploy", flow_name="downstream_flow",
                      entrypoint="dep_trigger.py:downstream_flow",
                      triggers=[trigger_json(t) for t in triggers])


def test_plan_owned_makes_one_automation_per_trigger() -> None:
    course = DeploymentEventTrigger(name="Upstream Flow - Pipeline", enabled=False,
                                    description="d",
                                    match_related={"prefect.resource.id": "prefect.flow.*"},
                                    expect={"prefect.flow-run.Completed"},
                                    parameters={"ticker": "{{ event.payload.t }}"},
                                    schedule_after=7)
    plain = {"require": "all", "triggers": [{"expect": "x"}, {"expect": "y"}]}
    first, second = plan_owned(_deployment(course, plain))
    assert (first.name, first.enabled, first.description) == (
        "Upstream Flow - Pipeline", False, "d")
    assert first.trigger == course.as_trigger()
    assert first.actions == [RunDeployment(deployment_id="dep-1",
                                           parameters={"ticker": "{{ event.payload.t }}"},
                                           schedule_after=7)]
    assert second.name == "downstream-flow/ticker-deploy trigger 2"
    assert isinstance(second.trigger, CompoundTrigger) and second.enabled
    assert second.actions == [RunDeployment(deployment_id="dep-1")]
    assert {first.owner_deployment_id, second.owner_deployment_id} == {"dep-1"}


def test_plan_owned_refuses_two_triggers_of_one_name() -> None:
    same = DeploymentEventTrigger(name="same", expect={"a"})
    with pytest.raises(AutomationError, match="two triggers make automations named 'same'"):
        plan_owned(_deployment(same, same))


def test_deployment_triggers_as_json() -> None:
    data = trigger_json({"expect": ["prefect.flow-run.Failed"], "name": "n",
                         "schedule_after": 3})
    assert data["expect"] == ["tasks-core.flow-run.Failed"] and data["schedule_after"] == 3.0
    assert isinstance(deployment_trigger({"triggers": [ON_ORDERS], "require": "any"}),
                      DeploymentCompoundTrigger)
    with pytest.raises(TriggerError, match="within: must be >= 0 s"):
        trigger_json({"expect": ["a"], "within": -2})
    with pytest.raises(TriggerError, match="type: a trigger's type must be"):
        trigger_json({"type": "metric"})
    with pytest.raises(TriggerError, match="parameters"):
        trigger_json({"expect": ["a"], "parameters": "not a dict"})


def test_load_automations_from_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "a.yaml"
    yaml_file.write_text("name: one\ntrigger:\n  expect: [prefect.flow-run.Failed]\n"
                         "actions:\n  - type: do-nothing\n")
    [one] = load_automations(yaml_file)
    assert one.name == "one" and one.trigger == EventTrigger(expect={"tasks-core.flow-run.Failed"})
    json_file = tmp_path / "b.json"
    json_file.write_text(json.dumps([{"name": "two", "trigger": ON_ORDERS, "actions": NOTHING},
                                     {"name": "three", "trigger": ON_ORDERS,
                                      "actions": NOTHING, "enabled": False}]))
    assert [(a.name, a.enabled) for a in load_automations(json_file)] == [
        ("two", True), ("three", False)]


@pytest.mark.parametrize(("name", "text", "error", "fragment"), [
    ("a.txt", "", ConfigurationError, "give a .yaml, .yml or .json file"),
    ("a.json", "{", ConfigurationError, "is not valid JSON"),
    ("a.yaml", "a: [", ConfigurationError, "is not valid YAML"),
    ("a.yaml", "- 1\n", ConfigurationError, "must hold an automation"),
    ("a.yaml", "name: x\ntrigger: {expect: [a]}\nactions: [{type: do-nothing}]\nid: abc\n",
     AutomationError, "entry 1: id cannot be given"),
    ("a.json", json.dumps([{"name": "x", "trigger": ON_ORDERS, "actions": NOTHING},
                           {"name": "y", "trigger": {"expect": ["a"], "within": -1},
                            "actions": NOTHING}]),
     AutomationError, "entry 2: automation 'y': trigger:"),
])
def test_bad_automation_files(tmp_path: Path, name: str, text: str, error: type[Exception],
                              fragment: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(error) as info:
        load_automations(path)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_trigger_summaries() -> None:
    assert trigger_summary(EventTrigger(expect={"a", "b"}, threshold=2, within=30)) == \
        "Reactive 2 x a, b within 30s"
    assert trigger_summary(EventTrigger(expect={"a"}, posture="Proactive")) == \
        "Proactive < 1 x a within 10s"
    assert trigger_summary(CompoundTrigger(require="any", triggers=[ON_ORDERS, ON_ORDERS])) \
        == "compound any of 2"
    assert trigger_summary(SequenceTrigger(triggers=[ON_ORDERS])) == "sequence of 1"


def test_table_keeps_id_name_and_enabled_at_80_columns() -> None:
    a = Automation("a rather long automation name for the table", ON_ORDERS,
                   [RunDeployment(deployment_name="etl/daily")], id="0123456789abcdef",
                   enabled=False)
    console = Console(width=80, record=True, color_system=None)
    console.print(automations_table([a], width=80))
    text = console.export_text()
    assert "01234567" in text and "a rather long automation name for the table" in text
    assert "paused" in text
    assert all(len(line) <= 80 for line in text.splitlines())
