"""Action models: Prefect's type names, JSON round trips, targets by name / id / inferred,
and each structural refusal (the error names the action and the field)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from tasks_core.errors import ValidationError
from tasks_core.events.actions import (
    ACTION_TYPES,
    ActionError,
    ActionTypes,
    CallWebhook,
    CancelFlowRun,
    ChangeFlowRunState,
    DoNothing,
    PauseAutomation,
    PauseDeployment,
    PauseWorkPool,
    PauseWorkQueue,
    ResumeAutomation,
    ResumeDeployment,
    ResumeWorkPool,
    ResumeWorkQueue,
    RunDeployment,
    SendNotification,
    parse_action,
)
from tasks_core.states import StateName, StateType

EXAMPLES = [
    DoNothing(),
    RunDeployment(deployment_name="etl/daily", parameters={"n": "{{ event.payload.n }}"},
                  schedule_after=30),
    RunDeployment(source="inferred"),
    PauseDeployment(deployment_id="0b5c"),
    ResumeDeployment(deployment_name="etl/daily"),
    PauseWorkPool(work_pool_name="gpu"),
    ResumeWorkPool(source="inferred"),
    PauseWorkQueue(work_pool_name="gpu", work_queue_name="high"),
    ResumeWorkQueue(work_queue_id="gpu:high"),
    CancelFlowRun(),
    ChangeFlowRunState(state="FAILED", message="stopped by {{ automation.name }}"),
    PauseAutomation(automation_name="nightly"),
    ResumeAutomation(automation_id="a1"),
    SendNotification(to="json://127.0.0.1:9/", subject="s", body="b {{ event.event }}"),
    CallWebhook(url="https://example.com/hook", headers={"X-A": "{{ event.id }}"},
                payload={"run": "{{ event.resource.id }}"}),
]


def test_type_names_are_prefects() -> None:
    assert set(ACTION_TYPES) == {
        "do-nothing", "run-deployment", "pause-deployment", "resume-deployment",
        "pause-work-pool", "resume-work-pool", "pause-work-queue", "resume-work-queue",
        "cancel-flow-run", "change-flow-run-state", "pause-automation", "resume-automation",
        "send-notification", "call-webhook"}


@pytest.mark.parametrize("action", EXAMPLES, ids=lambda a: a.type)
def test_json_round_trip(action: Any) -> None:
    data = action.model_dump(mode="json")
    again = parse_action(data)
    assert again == action
    assert type(again) is type(action)
    assert again.model_dump(mode="json") == data


def test_the_union_reads_actions_inside_another_model() -> None:
    class Holder(BaseModel):
        actions: list[ActionTypes]

    held = Holder.model_validate({"actions": [a.model_dump(mode="json") for a in EXAMPLES]})
    assert held.actions == EXAMPLES


def test_parse_action_returns_a_model_as_it_is() -> None:
    action = DoNothing()
    assert parse_action(action) is action


def test_schedule_after_is_seconds_in_json() -> None:
    action = RunDeployment(deployment_name="a/b", schedule_after=timedelta(minutes=2))
    assert action.model_dump(mode="json")["schedule_after"] == 120.0
    assert parse_action({"type": "run-deployment", "deployment_name": "a/b",
                         "schedule_after": 1.5}).schedule_after == timedelta(seconds=1.5)


def test_flow_run_actions_infer_by_default_and_take_an_id() -> None:
    assert CancelFlowRun().source == "inferred"
    assert CancelFlowRun(source="selected", flow_run_id="r1").flow_run_id == "r1"


def test_change_state_name_defaults_to_the_types_main_name() -> None:
    assert ChangeFlowRunState(state="cancelled").state_name == StateName.CANCELLED
    assert ChangeFlowRunState(state=StateType.FAILED, name="TimedOut").state_name \
        == StateName.TIMED_OUT


def test_work_pool_id_is_the_pools_name() -> None:
    assert PauseWorkPool(work_pool_id="gpu").work_pool_name == "gpu"


def test_notification_to_one_url_or_none() -> None:
    assert SendNotification(to="log://", body="x").to == ["log://"]
    assert SendNotification(body="x").to == []


def test_webhook_method_is_upper_cased() -> None:
    assert CallWebhook(url="http://h/", method="put").method == "PUT"


def test_describe_names_the_target() -> None:
    assert RunDeployment(deployment_name="etl/daily").describe() == \
        "Run deployment 'etl/daily'"
    assert PauseWorkPool(source="inferred").describe() == \
        "Pause work pool inferred from the event"


REFUSALS: list[tuple[dict[str, Any], str]] = [
    ({"type": "launch-rocket"}, "unknown action type 'launch-rocket'"),
    ({}, "unknown action type None"),
    ({"type": "run-deployment"}, "needs exactly one of deployment_name or deployment_id"),
    ({"type": "run-deployment", "deployment_name": "a/b", "deployment_id": "x"},
     "both are given"),
    ({"type": "run-deployment", "source": "inferred", "deployment_name": "a/b"},
     "deployment_name is not allowed with source='inferred'"),
    ({"type": "run-deployment", "deployment_name": "daily"},
     "deployment_name: must read 'flow-name/deployment-name'"),
    ({"type": "run-deployment", "deployment_name": "a/b", "schedule_after": -1},
     "schedule_after: must be >= 0 s"),
    ({"type": "run-deployment", "source": "elsewhere"}, "source"),
    ({"type": "pause-work-pool"}, "needs exactly one of work_pool_name"),
    ({"type": "pause-work-queue", "work_pool_name": "p"}, "both work_pool_name and "
                                                          "work_queue_name"),
    ({"type": "pause-work-queue", "work_queue_id": "high"}, "must read '<pool>:<queue>'"),
    ({"type": "pause-work-queue", "work_queue_id": "gpu:hi gh"},
     "work_queue_id: work queue name 'hi gh' has ' '"),
    ({"type": "resume-work-queue", "work_pool_name": "-gpu", "work_queue_name": "high"},
     "work_queue_id: work pool name '-gpu' starts with '-'"),
    ({"type": "cancel-flow-run", "source": "selected"}, "needs exactly one of flow_run_id"),
    ({"type": "change-flow-run-state", "state": "EXPLODED"}, "state"),
    ({"type": "change-flow-run-state", "state": "FAILED", "name": "Completed"},
     "state name 'Completed' is of type COMPLETED, not FAILED"),
    ({"type": "pause-automation"}, "needs exactly one of automation_name or automation_id"),
    ({"type": "send-notification", "body": "x", "to": ["slack"]},
     "'slack' is not an Apprise URL"),
    ({"type": "send-notification"}, "body: Field required"),
    ({"type": "call-webhook", "url": "file:///etc/passwd"},
     "url: must be an http:// or https:// URL"),
    ({"type": "call-webhook", "url": "http://h/", "method": "TRACE"},
     "method: must be one of GET, POST, PUT, PATCH, DELETE"),
    ({"type": "call-webhook", "url": "http://h/", "timeout": 0}, "timeout"),
    ({"type": "do-nothing", "block_document_id": "x"},
     "block_document_id: Extra inputs are not permitted"),
    ({"type": "send-notification", "block_document_id": "0b5c", "body": "x"},
     "block_document_id: blocks are Prefect's; tasks-core has none: give the target itself "
     "(SendNotification(to='<Apprise URL>')"),
    ({"type": "call-webhook", "block_document_id": "0b5c"}, "block_document_id: blocks are"),
]


@pytest.mark.parametrize(("data", "message"), REFUSALS, ids=[str(d) for d, _ in REFUSALS])
def test_refusals_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ActionError, match="^.*" + _escape(message)) as info:
        parse_action(data)
    assert isinstance(info.value, ValidationError)
    if data.get("type") in ACTION_TYPES:
        assert str(info.value).startswith(ACTION_TYPES[data["type"]].__name__ + ": ")
        name = ACTION_TYPES[data["type"]].__name__
        assert not str(info.value).startswith(f"{name}: {name}:")  # named once


def test_constructor_raises_action_error_too() -> None:
    with pytest.raises(ActionError, match="RunDeployment: deployment_name"):
        RunDeployment(deployment_name="nope")


def test_not_a_dict_is_refused() -> None:
    with pytest.raises(ActionError, match="must be a JSON object"):
        parse_action(["run-deployment"])


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_a_bad_action_inside_another_model_names_the_action_and_field() -> None:
    import pydantic

    class Holder(BaseModel):
        actions: list[ActionTypes]

    with pytest.raises(pydantic.ValidationError,
                       match="RunDeployment: deployment_name: must read"):
        Holder.model_validate({"actions": [{"type": "run-deployment",
                                            "deployment_name": "nope"}]})
    with pytest.raises(pydantic.ValidationError, match="an action's type must be one of"):
        Holder.model_validate({"actions": [{"type": "launch-rocket"}]})
