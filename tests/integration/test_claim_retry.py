"""A change Redis applied whose reply was lost is sent again by redis-py (its Retry), or by
the reporter once Redis is back: transition.lua knows it by the run's last history entry
(the change's own state and time) and answers it as applied, changing nothing; a claim is
also known by its token. Real Redis; the lost reply is played by sending the same change
twice."""

from __future__ import annotations

from typing import Any

from tasks_core.engine.claim import CLAIM_FIELDS, apply_claim, claim
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Transition
from tests.helpers import record_of
from tests.integration import sample_tasks as t


def test_a_claim_sent_again_after_a_lost_reply_is_taken_as_applied(
        tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    run = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    rt.store.create(run)
    change = claim(run.id, 1, rt.owner)
    first = rt.reporter.apply_now([change])[0]  # Redis applied it; the reply was lost
    assert first.applied
    again = apply_claim(rt, change)  # what redis-py's retry sends
    assert again.applied
    assert again.record == first.record
    assert set(again.record or {}) == set(CLAIM_FIELDS["task"])
    assert rt.store.get(run.id).state == StateName.RUNNING


def test_another_claim_of_the_same_process_is_still_refused(tc_env: dict[str, Any]) -> None:
    """A duplicate delivery handled by the same process (its own claim, its own token):
    refused, as any duplicate."""
    rt = get_runtime()
    run = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    rt.store.create(run)
    assert apply_claim(rt, claim(run.id, 1, rt.owner)).applied
    duplicate = apply_claim(rt, claim(run.id, 1, rt.owner))
    assert not duplicate.applied
    assert (duplicate.state, duplicate.owner) == (StateName.RUNNING, rt.owner)
    other = apply_claim(rt, claim(run.id, 1, "elsewhere:1"))
    assert not other.applied


def test_an_end_sent_again_after_a_lost_reply_is_answered_applied_and_changes_nothing(
        tc_env: dict[str, Any]) -> None:
    """Before, the second send was refused (the run already Completed) and the worker, taking
    its outcome for not written, skipped the run's hooks."""
    rt = get_runtime()
    run = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    rt.store.create(run)
    assert apply_claim(rt, claim(run.id, 1, rt.owner)).applied
    end = Transition(run.id, StateName.COMPLETED, expected_attempt=1, result_json="3",
                     outcome=True, return_fields=("state", "attempt"))
    first = rt.reporter.apply_now([end])[0]
    events = rt.client.xlen(rt.store.keys.events)
    again = rt.reporter.apply_now([end])[0]  # what redis-py's retry, or the reporter, sends
    assert first.applied and again.applied
    assert again.record == first.record == {"state": "Completed", "attempt": "1"}
    assert rt.client.xlen(rt.store.keys.events) == events  # no second event
    [record] = rt.store.get_many([run.id], history=True)
    assert [h.name for h in record.history] == [
        StateName.PENDING, StateName.RUNNING, StateName.COMPLETED]
    assert rt.store.result_json(run.id) == "3"


def test_another_change_to_the_state_a_run_is_in_is_still_refused(
        tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    run = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    rt.store.create(run)
    assert apply_claim(rt, claim(run.id, 1, rt.owner)).applied
    assert rt.store.transition(Transition(run.id, StateName.COMPLETED, expected_attempt=1,
                                          result_json="3", outcome=True)).applied
    other = rt.store.transition(Transition(run.id, StateName.COMPLETED, expected_attempt=1,
                                           result_json="4", outcome=True))
    assert not other.applied and other.state == StateName.COMPLETED
    assert rt.store.result_json(run.id) == "3"
