"""Automations against real Redis: CRUD, names, id prefixes, change messages, automation
events, and the automations a deployment's triggers make."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from tasks_core.automations import (
    Automation,
    AutomationError,
    AutomationNotFound,
    set_enabled,
)
from tasks_core.automations.owned import owned_automations
from tasks_core.deployments import delete_deployment, deployment_store
from tasks_core.events import DeploymentEventTrigger, EventTrigger
from tasks_core.events.actions import PauseWorkPool, RunDeployment
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.events.triggers import CompoundTrigger, TriggerError
from tasks_core.process_runtime import get_runtime
from tests.integration import sample_flows as f

RID = "tasks-core.resource.id"
DO_NOTHING = [{"type": "do-nothing"}]


def _automation(name: str = "on orders", **options: Any) -> Automation:
    return Automation(name, EventTrigger(expect={"acme.order.*"}), DO_NOTHING, **options)


def _events(glob: str) -> list[Any]:
    rt = get_runtime()
    rt.emitter.flush()
    return list(reversed(list_events(rt.events, EventFilter(events=(glob,)), limit=100)))


def test_create_read_update_delete(tc_env: dict[str, Any]) -> None:
    created = _automation(description="first", tags=["ops"]).create()
    assert created.created == created.updated
    read = Automation.read("on orders")
    assert read == created
    assert Automation.read(created.id) == created
    assert Automation.read(created.id[:6]) == created  # a unique start of the id
    changed = read.model_copy(update={"description": "second", "name": "orders"})
    updated = changed.update()
    assert updated.description == "second" and updated.created == created.created
    assert updated.updated > created.updated
    assert Automation.read("orders").id == created.id
    with pytest.raises(AutomationNotFound, match=r"'on orders' not found .*did you mean "
                                                 "'orders'"):
        Automation.read("on orders")  # the old name is free again
    assert [a.name for a in Automation.ls()] == ["orders"]
    assert updated.delete() is True
    assert updated.delete() is False
    assert Automation.ls() == []
    with pytest.raises(AutomationNotFound):
        Automation.read(created.id)


def test_names_are_unique_and_prefixes_must_be_unique(tc_env: dict[str, Any]) -> None:
    first = _automation().create()
    with pytest.raises(AutomationError, match=f"name 'on orders' is taken .*{first.id}"):
        _automation().create()
    other = _automation("other", id="abc-1").create()
    with pytest.raises(AutomationError, match="'on orders' is taken"):
        Automation.read("other").model_copy(update={"name": "on orders"}).update()
    assert Automation.read("other") == other  # nothing was changed
    _automation("third", id="abc-2").create()
    with pytest.raises(AutomationError, match="id 'abc' is ambiguous: it starts abc-1, abc-2"):
        Automation.read("abc")
    assert Automation.read("abc-2").name == "third"
    with pytest.raises(AutomationError, match="empty automation name"):
        Automation.read(" ")
    with pytest.raises(AutomationNotFound):
        _automation("never stored").update()


def test_every_change_is_announced_on_the_channel_within_a_second(
        tc_env: dict[str, Any]) -> None:
    subscription = get_runtime().automations.subscribe()
    received: list[tuple[float, dict[str, Any]]] = []

    def listen() -> None:
        deadline = time.monotonic() + 10
        while len(received) < 4 and time.monotonic() < deadline:
            text = subscription.next(timeout=0.2)
            if text is not None:
                received.append((time.monotonic(), json.loads(text)))

    listener = threading.Thread(target=listen)
    listener.start()
    sent = []
    automation = _automation().create()
    sent.append(time.monotonic())
    set_enabled("on orders", False)
    sent.append(time.monotonic())
    set_enabled("on orders", False)  # no change: no message
    set_enabled("on orders", True)
    sent.append(time.monotonic())
    automation.delete()
    sent.append(time.monotonic())
    listener.join()
    subscription.close()
    assert [(m["op"], m["enabled"]) for _, m in received] == [
        ("created", True), ("updated", False), ("updated", True), ("deleted", True)]
    assert all(m["id"] == automation.id and m["name"] == "on orders"
               and m["owner_deployment_id"] is None for _, m in received)
    assert all(at - before < 1.0 for (at, _), before in zip(received, sent, strict=True))


def test_changes_emit_automation_events(tc_env: dict[str, Any]) -> None:
    automation = _automation().create()
    set_enabled(automation.id, False)
    automation.delete()
    events = _events("prefect.automation.*")  # Prefect's spelling reads as ours
    assert [e.event for e in events] == ["tasks-core.automation.created",
                                         "tasks-core.automation.updated",
                                         "tasks-core.automation.deleted"]
    assert all(e.resource == {RID: f"tasks-core.automation.{automation.id}",
                              "tasks-core.resource.name": "on orders"} for e in events)
    assert events[1].payload == {"updated_fields": ["enabled"],
                                 "updates": {"enabled": {"from": True, "to": False}}}


def _course_trigger(**options: Any) -> DeploymentEventTrigger:
    fields: dict[str, Any] = {"name": "Upstream Flow - Pipeline", "enabled": True, **options}
    return DeploymentEventTrigger(
        match_related={"prefect.resource.id": "prefect.flow.*"},
        expect={"prefect.flow-run.Completed"}, **fields)


def test_deploy_with_triggers_creates_owned_automations(tc_env: dict[str, Any]) -> None:
    plain = CompoundTrigger(require="any", triggers=[EventTrigger(expect={"a.b"})])
    dep_id = f.pipeline.deploy(
        "nightly", work_pool_name=tc_env["queue"],
        triggers=[_course_trigger(parameters={"lat": "{{ event.payload.lat }}"},
                                  schedule_after=30), plain])
    course, numbered = owned_automations(dep_id)
    assert course.name == "Upstream Flow - Pipeline" and course.enabled
    assert numbered.name == "pipeline/nightly trigger 2"
    assert course.owner_deployment_id == numbered.owner_deployment_id == dep_id
    assert course.trigger == EventTrigger(
        expect={"tasks-core.flow-run.Completed"},
        match_related={RID: "tasks-core.flow.*"})
    assert [a.model_dump(mode="json") for a in course.actions] == [
        {"type": "run-deployment", "source": "selected", "deployment_name": None,
         "deployment_id": dep_id, "parameters": {"lat": "{{ event.payload.lat }}"},
         "job_variables": None, "schedule_after": 30.0}]
    assert numbered.trigger == plain
    assert numbered.actions == [RunDeployment(deployment_id=dep_id)]
    created = _events("tasks-core.automation.created")
    assert {e.resource["tasks-core.resource.name"] for e in created} == {
        "Upstream Flow - Pipeline", "pipeline/nightly trigger 2"}
    assert all(e.related == [{RID: f"tasks-core.deployment.{dep_id}",
                              "tasks-core.resource.role": "deployment"}] for e in created)


def test_redeploy_replaces_owned_automations_and_delete_removes_them(
        tc_env: dict[str, Any]) -> None:
    pool = tc_env["queue"]
    dep_id = f.pipeline.deploy("nightly", work_pool_name=pool, triggers=[_course_trigger()])
    [first] = owned_automations(dep_id)
    assert f.pipeline.deploy("nightly", work_pool_name=pool,
                             triggers=[_course_trigger()]) == dep_id
    assert owned_automations(dep_id) == [first]  # unchanged: kept as it was
    f.pipeline.deploy("nightly", work_pool_name=pool,
                      triggers=[_course_trigger(enabled=False, name="renamed")])
    [second] = owned_automations(dep_id)
    assert second.id != first.id and second.name == "renamed" and not second.enabled
    assert [a.name for a in Automation.ls()] == ["renamed"]
    f.pipeline.deploy("nightly", work_pool_name=pool)  # no triggers: none owned
    assert owned_automations(dep_id) == [] and Automation.ls() == []
    f.pipeline.deploy("nightly", work_pool_name=pool, triggers=[_course_trigger()])
    hand_made = _automation().create()
    delete_deployment("pipeline/nightly")
    assert Automation.ls() == [hand_made]
    assert owned_automations(dep_id) == []


def test_to_deployment_and_deploy_take_triggers_too(tc_env: dict[str, Any]) -> None:
    # what serve(triggers=...) does before it starts its worker and beat
    from tasks_core.deployments import deploy

    [dep_id] = deploy(f.pipeline.to_deployment(
        "served", work_pool_name=tc_env["queue"],
        triggers=[{"expect": ["prefect.flow-run.Failed"], "name": "on failure",
                   "parameters": {"lat": 1}}]))
    [automation] = owned_automations(dep_id)
    assert automation.name == "on failure"
    assert automation.trigger == EventTrigger(expect={"tasks-core.flow-run.Failed"})
    assert automation.actions == [RunDeployment(deployment_id=dep_id, parameters={"lat": 1})]


def test_deploy_refuses_a_trigger_name_held_by_another_automation(
        tc_env: dict[str, Any]) -> None:
    _automation("Upstream Flow - Pipeline").create()
    with pytest.raises(AutomationError, match="'Upstream Flow - Pipeline' is taken"):
        f.pipeline.deploy("nightly", work_pool_name=tc_env["queue"],
                          triggers=[_course_trigger()])
    assert deployment_store().find("pipeline/nightly") is None  # nothing was saved
    with pytest.raises(TriggerError, match="threshold: must be at least 1"):
        f.pipeline.deploy("nightly", work_pool_name=tc_env["queue"],
                          triggers=[{"expect": ["a"], "threshold": 0}])
    assert deployment_store().find("pipeline/nightly") is None


def test_actions_naming_unknown_targets_are_refused_when_saved(tc_env: dict[str, Any]) -> None:
    f.pipeline.deploy("nightly", work_pool_name=tc_env["queue"])
    trigger = EventTrigger(expect={"acme.*"})
    with pytest.raises(AutomationError, match=r"automation 'a': actions.0: RunDeployment: "
                                              r"deployment 'pipeline/nigthly' not found "
                                              r"\(did you mean 'pipeline/nightly'\?\)"):
        Automation("a", trigger, [{"type": "run-deployment",
                                   "deployment_name": "pipeline/nigthly"}]).create()
    with pytest.raises(AutomationError,
                       match=r"actions.1: PauseWorkPool: work pool 'gpu' not found"):
        Automation("a", trigger, [{"type": "do-nothing"}, PauseWorkPool(work_pool_name="gpu")]
                   ).create()
    with pytest.raises(AutomationError, match="automation 'nobody' not found"):
        Automation("a", trigger, [{"type": "pause-automation", "automation_name": "nobody"}]
                   ).create()
    with pytest.raises(AutomationError, match=r"actions\.0: SendNotification: to"):
        Automation("a", trigger, [{"type": "send-notification", "to": "nosuch://x",
                                   "body": "hi"}]).create()
    assert Automation.ls() == []  # nothing was stored
    ok = Automation("a", trigger, [{"type": "run-deployment",
                                    "deployment_name": "pipeline/nightly"},
                                   {"type": "pause-automation", "automation_name": "a"},
                                   {"type": "run-deployment", "source": "inferred"}]).create()
    with pytest.raises(AutomationError, match="work pool 'gpu' not found"):
        ok.model_copy(update={"actions": [PauseWorkPool(work_pool_name="gpu")]}).update()
    assert Automation.read("a") == ok
