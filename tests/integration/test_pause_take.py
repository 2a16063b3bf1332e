"""A pause taken whose reply was lost: redis-py sends the take again, and it finds the pause
gone. pause_take.lua knows its own take by the call's token and gives back the pause, so
the caller goes on (a resumed run moved on or sent again, an expired one failed) instead of
leaving the run Paused with no pause (real Redis; the lost reply is played by sending the
same call twice)."""

from __future__ import annotations

from typing import Any

from tasks_core.process_runtime import get_runtime


def test_a_take_sent_again_is_still_its_own_and_another_finds_nothing(
        tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    pauses = rt.pauses
    pauses.open("run-1", '{"key": "approve"}', deadline=9e9)
    keys = [rt.store.keys.pause("run-1"), rt.store.keys.pauses,
            rt.store.keys.pause_input("run-1"), rt.store.keys.pause_resumed("run-1"),
            rt.store.keys.run("run-1"), rt.store.keys.pause_taken("run-1")]
    args = ["run-1", '{"ok": true}', "1", "approve", 60, "token-1", 300]
    assert pauses._take(keys=keys, args=args) == '{"key": "approve"}'
    assert pauses._take(keys=keys, args=args) == '{"key": "approve"}'  # sent again
    assert rt.client.llen(keys[2]) == 1  # the input was handed over once
    assert pauses.take("run-1") is None  # another take: nothing open
    assert 0 < rt.client.ttl(keys[5]) <= 300
