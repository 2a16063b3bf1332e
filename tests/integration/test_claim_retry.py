"""A change Redis applied whose reply was lost is sent again by redis-py (its Retry), or by
the reporter once Redis is back: transition.lua knows it by the run's last history entry
(the change's own state and time) and answers it as applied, changing nothing; a claim is
also known by its token. create.lua knows a creation sent again by the record's first
history entry. Real Redis; the lost reply is played by sending the same change twice."""

from __future__ import annotations

from datetime import timedelta
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


def test_a_creation_sent_again_after_a_lost_reply_is_answered_created(
        tc_env: dict[str, Any]) -> None:
    """create.lua knows its own creation sent again by the record's first history entry:
    answered created, changing nothing (no second message, no second event); another
    creation with the same id is still refused."""
    rt = get_runtime()
    run = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    assert rt.store.create(run)
    events = rt.client.xlen(rt.store.keys.events)
    assert rt.store.create(run)  # what redis-py's retry sends
    assert rt.client.xlen(rt.store.keys.events) == events
    other = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    other.id = run.id
    other.created = run.created + timedelta(microseconds=1)
    assert not rt.store.create(other)


def test_a_call_whose_creation_reply_was_lost_still_does_what_follows_it(
        tc_env: dict[str, Any]) -> None:
    """`apply_async`'s write sent again (redis-py's retry, or its own publish retry) after
    Redis applied it: before, it came back "exists", so its `expires` was not indexed for
    the sweeper (and through a broker that is not this Redis, its message was not sent)."""
    from datetime import UTC, datetime

    from tasks_core.engine.apply import write_run
    from tasks_core.engine.calling import CallOptions

    rt = get_runtime()
    run = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    expires = datetime.now(UTC) + timedelta(seconds=1)
    options = CallOptions(expires=expires)
    run.expires = expires
    rt.store.create(run)  # Redis applied the first send; its reply was lost
    assert write_run(rt, run, options, None)
    assert run.id in rt.expiring.due(expires + timedelta(seconds=1))
