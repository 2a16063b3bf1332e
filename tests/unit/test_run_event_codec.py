"""The stored forms of related resources and run-state events read back in full."""

from __future__ import annotations

import json

import pytest

from tasks_core.run_event_codec import (
    compact_related,
    entry_text,
    expand_related,
    expand_run_event,
    run_event_id,
)

ID, ROLE, NAME = "tasks-core.resource.id", "tasks-core.resource.role", "tasks-core.resource.name"


def test_our_resources_are_stored_as_short_strings_and_others_as_objects() -> None:
    related = [
        {ID: "tasks-core.task.add", ROLE: "task"},
        {ID: "tasks-core.flow-run.0f1e", ROLE: "flow-run"},
        {ID: "tasks-core.tag.nightly", ROLE: "tag"},
        {ID: "tasks-core.automation.a1", ROLE: "automation", NAME: "on-fail"},
        {ID: "acme.thing", ROLE: "thing"},
        {ID: "tasks-core.task.x", ROLE: "flow"},  # role is not the id's segment: kept whole
    ]
    stored = compact_related(related)
    assert stored[:3] == ["task.add", "flow-run.0f1e", "tag.nightly"]
    assert stored[3:] == related[3:]
    assert expand_related(json.loads(json.dumps(stored))) == related


def test_a_plain_task_run_record_fits_redis_listpack_values() -> None:
    stored = json.dumps(compact_related([{ID: "tasks-core.task.add", ROLE: "task"},
                                         {ID: f"tasks-core.flow-run.{'f' * 36}",
                                          ROLE: "flow-run"}]), separators=(",", ":"))
    assert len(stored) <= 64  # Redis's default hash-max-listpack-value


def test_full_related_written_before_reads_the_same() -> None:
    full = [{ID: "tasks-core.task.add", ROLE: "task"}]
    assert expand_related(full) == full
    assert expand_related(None) == []


def test_a_stored_transition_expands_to_the_documented_event() -> None:
    stored = json.dumps(["e1", "2026-01-02T03:04:05+00:00", "task", "r1", "add",
                         ["task.add"], "Running", "RUNNING", "Completed", "COMPLETED",
                         {"name": "Completed", "type": "COMPLETED", "message": ""}, "e0"])
    event = json.loads(expand_run_event(stored))
    assert list(event) == ["id", "occurred", "event", "resource", "related", "received",
                           "follows", "payload"]
    assert event == {
        "id": "e1", "occurred": "2026-01-02T03:04:05+00:00",
        "event": "tasks-core.task-run.Completed",
        "resource": {ID: "tasks-core.task-run.r1", NAME: "add",
                     "tasks-core.state-name": "Completed",
                     "tasks-core.state-type": "COMPLETED"},
        "related": [{ID: "tasks-core.task.add", ROLE: "task"}],
        "received": "2026-01-02T03:04:05+00:00", "follows": "e0",
        "payload": {"intended": {"from": "Running", "to": "Completed"},
                    "initial_state": {"name": "Running", "type": "RUNNING"},
                    "validated_state": {"name": "Completed", "type": "COMPLETED",
                                        "message": ""}},
    }


def test_a_stored_creation_has_no_initial_state_and_no_follows() -> None:
    stored = json.dumps(["e1", "t", "flow", "r1", "f", [], None, None, "Pending", "PENDING",
                         {"name": "Pending", "type": "PENDING"}, None])
    event = json.loads(expand_run_event(stored))
    assert event["payload"]["initial_state"] is None and event["follows"] is None
    assert event["payload"]["intended"] == {"from": None, "to": "Pending"}


@pytest.mark.parametrize("bad", ['{"id": 1}', "[1, 2]", "not json"])
def test_what_is_not_a_stored_run_event_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        expand_run_event(bad)


def test_entry_text_reads_either_field() -> None:
    assert entry_text({"event": '{"id":"x"}'}) == '{"id":"x"}'
    assert entry_text(None) is None and entry_text({}) is None and entry_text({"x": "1"}) is None
    stored = json.dumps(["e1", "t", "task", "r1", "n", [], None, None, "Pending", "PENDING",
                         {"name": "Pending", "type": "PENDING"}, None])
    assert json.loads(entry_text({"run": stored}) or "")["id"] == "e1"


def test_a_derivable_validated_state_is_filled_in_as_before() -> None:
    created = ["e1", "t", "task", "r1", "n", [], None, None, "Pending", "PENDING", None, None]
    moved = ["e2", "t", "task", "r1", "n", [], "Pending", "PENDING", "Running", "RUNNING",
             None, "e1"]
    assert json.loads(expand_run_event(json.dumps(created)))["payload"]["validated_state"] == {
        "name": "Pending", "type": "PENDING"}
    assert json.loads(expand_run_event(json.dumps(moved)))["payload"]["validated_state"] == {
        "name": "Running", "type": "RUNNING", "message": ""}


AT_US = 1_767_323_045_000_001  # 2026-01-02T03:04:05.000001+00:00


def test_the_current_form_derives_id_follows_types_and_times() -> None:
    created = json.dumps([1, AT_US, "task", "r1", "add", ["task.add"], None, "Pending", None,
                          None, None])
    moved = json.dumps([2, AT_US + 1, "task", "r1", "add", ["task.add"], "Pending", "Running",
                        None, None, AT_US])
    first, second = (json.loads(expand_run_event(text)) for text in (created, moved))
    assert first["id"] == run_event_id("r1", AT_US, 1)
    assert second["id"] == run_event_id("r1", AT_US, 2)
    assert first["follows"] is None and second["follows"] == first["id"]
    assert first["occurred"] == first["received"] == "2026-01-02T03:04:05.000001+00:00"
    assert second["occurred"] == "2026-01-02T03:04:05.000002+00:00"
    assert second["resource"]["tasks-core.state-type"] == "RUNNING"
    assert second["payload"]["initial_state"] == {"name": "Pending", "type": "PENDING"}
    assert second["payload"]["validated_state"] == {"name": "Running", "type": "RUNNING",
                                                    "message": ""}
    assert list(second) == ["id", "occurred", "event", "resource", "related", "received",
                            "follows", "payload"]


def test_a_stored_follows_wins_over_the_previous_event() -> None:
    stored = json.dumps([1, AT_US, "flow", "r1", "f", [], None, "Scheduled", None, "trigger",
                         None])
    assert json.loads(expand_run_event(stored))["follows"] == "trigger"


def test_event_ids_are_uuids_stable_per_run_creation_and_number() -> None:
    ids = {run_event_id(run, at, n) for run in ("r1", "r2") for at in (AT_US, AT_US + 1, None)
           for n in (1, 2, 3)}
    assert len(ids) == 18 and all(len(i) == 36 for i in ids)
    assert run_event_id("r1", AT_US, 1) == run_event_id("r1", AT_US, 1)


def test_a_run_id_used_again_later_gets_other_event_ids() -> None:
    later = AT_US + 86_400_000_000
    for n in (1, 2):
        first = json.dumps([n, AT_US + n, "task", "r1", "n", [], None if n == 1 else "Pending",
                            "Pending" if n == 1 else "Running", None, None,
                            None if n == 1 else AT_US + 1])
        again = json.dumps([n, later + n, "task", "r1", "n", [], None if n == 1 else "Pending",
                            "Pending" if n == 1 else "Running", None, None,
                            None if n == 1 else later + 1])
        assert json.loads(expand_run_event(first))["id"] != json.loads(
            expand_run_event(again))["id"]


@pytest.mark.parametrize("bad", [
    [1.5, AT_US, "task", "r", "n", [], None, "Pending", None, None, None],
    ["1", "t", "task", "r", "n", [], None, "Pending", None, None, None],
    [2, AT_US, "task", "r", "n", [], "Pending", "Running", None, None, "soon"],
    [1, AT_US, "task", "r", "n", [], None, "Pending", None, None]])
def test_a_current_form_with_a_bad_number_or_time_is_refused(bad: list[object]) -> None:
    with pytest.raises(ValueError, match="not a stored run event"):
        expand_run_event(json.dumps(bad))
