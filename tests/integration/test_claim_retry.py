"""A claim Redis applied whose reply was lost is sent again by redis-py (its Retry) and
refused by the state it wrote itself: `engine.claim.apply_claim` knows it by its token
(real Redis; the lost reply is played by applying the same claim twice)."""

from __future__ import annotations

from typing import Any

from tasks_core.engine.claim import CLAIM_FIELDS, apply_claim, claim
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName
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
