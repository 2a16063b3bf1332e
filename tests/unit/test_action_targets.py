"""Targets inferred from the triggering event, and the webhook address rules (pure)."""

from __future__ import annotations

import pytest

from tasks_core.events import build_event
from tasks_core.events.actions import ActionFailed
from tasks_core.events.actions.targets import infer_target
from tasks_core.events.actions.webhook import address_refusal

RID = "tasks-core.resource.id"
ROLE = "tasks-core.resource.role"

TASK_EVENT = build_event(
    "tasks-core.task-run.Completed", {RID: "tasks-core.task-run.t1"},
    related=[{RID: "tasks-core.flow.etl", ROLE: "flow"},
             {RID: "tasks-core.flow-run.parent", ROLE: "flow-run"},
             {RID: "tasks-core.deployment.d1", ROLE: "deployment"}])


def test_the_events_own_resource_comes_first() -> None:
    event = build_event("tasks-core.flow-run.Failed", {RID: "tasks-core.flow-run.r1"},
                        related=[{RID: "tasks-core.flow-run.parent", ROLE: "flow-run"}])
    assert infer_target(event, "flow-run", action="x") == "r1"


def test_related_resources_are_read_in_order() -> None:
    assert infer_target(TASK_EVENT, "flow-run", action="x") == "parent"
    assert infer_target(TASK_EVENT, "deployment", action="x") == "d1"


def test_pool_queue_and_automation_ids() -> None:
    event = build_event("acme.x", {RID: "tasks-core.work-pool.gpu"},
                        related=[{RID: "tasks-core.work-queue.gpu:high", ROLE: "work-queue"},
                                 {RID: "tasks-core.automation.a1.action.0", ROLE: "x"},
                                 {RID: "tasks-core.automation.a2", ROLE: "automation"}])
    assert infer_target(event, "work-pool", action="x") == "gpu"
    assert infer_target(event, "work-queue", action="x") == "gpu:high"
    assert infer_target(event, "automation", action="x") == "a2"  # not "a1.action.0"


def test_pool_and_queue_names_may_hold_dots() -> None:
    event = build_event("acme.x", {RID: "tasks-core.work-pool.etl.eu"},
                        related=[{RID: "tasks-core.work-queue.etl.eu:high.1",
                                  ROLE: "work-queue"}])
    assert infer_target(event, "work-pool", action="x") == "etl.eu"
    assert infer_target(event, "work-queue", action="x") == "etl.eu:high.1"


def test_an_event_naming_none_fails_saying_what_it_names() -> None:
    with pytest.raises(ActionFailed, match=r"Pause work pool: event "
                                           r"'tasks-core\.task-run\.Completed' \(.*\) names no "
                                           r"work-pool to infer \(it names "
                                           r"tasks-core\.task-run\.t1, tasks-core\.flow\.etl"):
        infer_target(TASK_EVENT, "work-pool", action="Pause work pool")


def test_no_event_fails() -> None:
    with pytest.raises(ActionFailed, match="this firing has none"):
        infer_target(None, "deployment", action="Run deployment")


@pytest.mark.parametrize(("host", "allow", "refused"), [
    ("169.254.169.254", True, "link-local"),
    ("169.254.169.254", False, "link-local"),
    ("0.0.0.0", True, "link-local/reserved"),
    ("224.0.0.1", True, "link-local/reserved"),
    ("127.0.0.1", False, "webhook_allow_private_addresses"),
    ("10.1.2.3", False, "private or loopback"),
    ("::1", False, "private or loopback"),
    ("fe80::1", True, "link-local"),
])
def test_refused_addresses(host: str, allow: bool, refused: str) -> None:
    problem = address_refusal(host, 80, allow_private=allow)
    assert problem is not None and refused in problem


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "::1"])
def test_private_addresses_when_allowed(host: str) -> None:
    assert address_refusal(host, 80, allow_private=True) is None


def test_a_public_address_passes() -> None:
    assert address_refusal("93.184.215.14", 443, allow_private=False) is None
