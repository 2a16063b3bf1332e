"""`tasks-core deadletter ...` end to end: the CLI (a subprocess) on the test Redis.

Entries are written here through `rt.deadletters` (as a worker would) and read, requeued
and purged by the CLI under the same key prefix.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from typing import Any

from tasks_core.dispatch import Envelope, redis_push
from tasks_core.messages import DeadLetter
from tasks_core.process_runtime import get_runtime
from tests.helpers import refused, run_cli

Result = subprocess.CompletedProcess[str]


def cli(env: dict[str, str], *args: str) -> Result:
    return run_cli(env, "deadletter", *args)


def _entries(queue: str) -> list[DeadLetter]:
    rt = get_runtime()
    push = redis_push(Envelope.for_run("run-1", 1, queue=queue, name="add", argsrepr=""),
                      rt.store.keys)
    made = [
        DeadLetter.new("undecodable message: JSONDecodeError", queue=queue, raw="{bad",
                       stage="transport", now=1000.0),
        DeadLetter.new("run run-1 has no record", queue=queue, raw=push.payload, stage="claim",
                       priority=7, task="tasks_core.run", message_id="run-1", now=2000.0),
    ]
    for entry in made:
        rt.deadletters.add(entry)
    return made


def test_ls_inspect_requeue_purge(cli_env: dict[str, str], tc_env: dict[str, Any]) -> None:
    empty = cli(cli_env, "ls")
    assert empty.returncode == 0 and "No dead letters" in empty.stdout
    queue = tc_env["queue"]
    bad, missing = _entries(queue)

    listed = cli(cli_env, "ls")
    assert listed.returncode == 0, listed.stderr
    assert "Dead letters (2)" in listed.stdout
    assert listed.stdout.index(missing.id[:8]) < listed.stdout.index(bad.id[:8])  # newest 1st
    assert "has no record" in listed.stdout and "tasks_core.run" in listed.stdout
    as_json = [json.loads(line) for line in cli(cli_env, "ls", "--json").stdout.splitlines()]
    assert [e["id"] for e in as_json] == [missing.id, bad.id]  # JSON Lines, full ids
    assert as_json[1]["raw"] == "{bad" and as_json[0]["priority"] == 7
    one = cli(cli_env, "ls", "--json", "--limit", "1").stdout.splitlines()
    assert [json.loads(line)["id"] for line in one] == [missing.id]

    shown = cli(cli_env, "inspect", missing.id[:6])
    assert shown.returncode == 0, shown.stderr
    assert missing.id in shown.stdout and "claim" in shown.stdout
    assert '"run-1"' in shown.stdout  # the decoded body: [["run-1", 1], {}, {...}]
    assert json.loads(cli(cli_env, "inspect", bad.id, "--json").stdout)["reason"] == bad.reason

    requeued = cli(cli_env, "requeue", missing.id[:8])
    assert requeued.returncode == 0, requeued.stderr
    rt = get_runtime()
    key = rt.store.keys.broker_queue(queue, 7)  # its own priority list, under the prefix
    assert key.startswith(f"{tc_env['prefix']}:q:")
    assert tc_env["client"].lrange(key, 0, -1) == [missing.raw]
    assert rt.deadletters.get(missing.id) is None
    refused(cli(cli_env, "requeue", missing.id), "not found")

    refused(cli(cli_env, "purge"), "--yes")  # no prompt (stdin is not a terminal)
    assert rt.deadletters.count() == 1
    purged = cli(cli_env, "purge", "--yes")
    assert purged.returncode == 0 and "Purged 1 dead letter." in purged.stdout
    assert rt.deadletters.count() == 0
    assert "No dead letters to purge" in cli(cli_env, "purge", "--yes").stdout


def test_unknown_and_ambiguous_ids(cli_env: dict[str, str], tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    base = DeadLetter.new("why", queue=tc_env["queue"], raw="x", stage="transport")
    for suffix in ("1", "2"):
        rt.deadletters.add(dataclasses.replace(base, id="abc" + suffix * 29))
    refused(cli(cli_env, "inspect", "abc"), "ambiguous")
    refused(cli(cli_env, "inspect", "ffff"), "dead letter 'ffff' not found",
            "tasks-core deadletter ls")
    refused(cli(cli_env, "inspect", "not hex!"), "not found")
    assert cli(cli_env, "inspect", "abc1").returncode == 0


def test_the_bound_drops_the_oldest(cli_env: dict[str, str], tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    rt.deadletters.max_entries = 3
    made = [DeadLetter.new(f"n{i}", queue="q", raw="x", stage="transport", now=float(i))
            for i in range(5)]
    dropped = [rt.deadletters.add(entry) for entry in made]
    assert dropped == [0, 0, 0, 1, 1]
    assert [e.reason for e in rt.deadletters.entries()] == ["n4", "n3", "n2"]
    assert tc_env["client"].hlen(rt.store.keys.deadletters) == 3
