"""What `RunStore._transition_call` sends transition.lua, built with its per-store parts
(`TransitionArgs`): the same history entry and validated state as `encode_entry` and the event
codec expect, whatever form the target state comes in. No Redis is reached (the client
is never used)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import redis

from tasks_core.retention import run_ttl
from tasks_core.settings import Settings
from tasks_core.state_history import encode_entry, epoch_us
from tasks_core.states import StateName, is_terminal, state_type
from tasks_core.store.runs import BrokerPush, RunStore, Transition

AT = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)


@pytest.fixture
def store() -> RunStore:
    return RunStore(redis.Redis(port=1), Settings(key_prefix="unit"))


@pytest.mark.parametrize("target", list(StateName))
@pytest.mark.parametrize("message", ["", "stopped: ü"])
def test_entry_validated_state_and_ttl_per_target(store: RunStore, target: StateName,
                                                  message: str) -> None:
    keys, args = store._transition_call(Transition("r1", target, message=message, at=AT))
    kind = state_type(target).value
    assert args[0] == target.value and args[1] == kind
    assert args[6] == encode_entry(target.value, kind, AT, message)
    assert args[8] == epoch_us(AT) and args[9] == AT.isoformat()
    validated = json.loads(args[16])
    assert validated == ({"name": target.value, "type": kind, "message": message}
                         if message else None)
    terminal = is_terminal(target)
    assert args[14] == ("1" if terminal else "0")
    assert args[15] == (run_ttl(store.settings, target) if terminal
                        else store.settings.run_ttl_seconds)
    fields = json.loads(args[7])
    assert fields["state_message"] == message
    assert ("end_time" in fields) == terminal
    assert keys[:4] == ["unit:run:r1", "unit:events", "unit:run:r1:done", "unit:result:r1"]
    assert keys[5:] == ["unit:run:r1:logs", "unit:run:r1:children",
                        "unit:pause:r1:resumed"]
    assert store._transition_call(Transition("r1", target.value, message=message,
                                             at=AT)) == (keys, args)


def test_a_claim_checks_expiry_in_utc_and_a_push_names_its_queue(store: RunStore) -> None:
    local = AT.astimezone(timezone(timedelta(hours=2)))
    change = Transition("r1", StateName.RUNNING, at=local, check_expiry=True,
                        push=BrokerPush("unit:q:x", "payload"), kind="flow",
                        fields={"attempt": "1"}, return_fields=("id", "name"))
    keys, args = store._transition_call(change)
    # the expiry is checked against now in UTC (the change's own time is kept for it)
    assert args[23].endswith("+00:00") and args[23] > AT.isoformat()
    assert args[9] == local.isoformat()
    assert keys[4] == "unit:q:x" and args[11] == "payload"
    assert args[5] == "unit:flow-runs:state:" and args[17] == "id,name"
    assert json.loads(args[7]) == {"attempt": "1", "state_message": ""}


def test_a_change_sent_again_has_its_first_time_and_a_claim_is_checked_against_now(
        store: RunStore) -> None:
    """A change's time is fixed at its first build (transition.lua knows it sent again by
    its history entry), but a claim's expiry is checked against the time of each send."""
    from tasks_core.engine.claim import claim

    change = claim("r1", 1, "host:1")
    _, first = store._transition_call(change)
    _, again = store._transition_call(change)
    assert change.at is not None
    assert again[6] == first[6] and again[8] == first[8]  # the same history entry and time
    assert first[23] == change.at.isoformat()
    assert again[23] > first[23]  # checked against now
