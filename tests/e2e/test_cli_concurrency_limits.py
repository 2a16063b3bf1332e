"""`tasks-core concurrency-limit create | ls | inspect | reset | delete` as subprocesses
through a pipe, 80 columns wide, against the test Redis."""

from __future__ import annotations

import json

import pytest

from tasks_core.concurrency.sync import concurrency
from tests.helpers import json_lines, refused, run_cli


@pytest.fixture
def env80(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "COLUMNS": "80"}


def _ok(env: dict[str, str], *args: str) -> str:
    done = run_cli(env, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def test_create_ls_inspect_reset_delete(env80: dict[str, str]) -> None:
    assert "No concurrency limits" in _ok(env80, "concurrency-limit", "ls")
    out = _ok(env80, "concurrency-limit", "create", "db", "5")
    assert "Created concurrency limit 'db': 5 slots." in out
    out = _ok(env80, "concurrency-limit", "create", "--tag", "etl", "2")
    assert "Created tag limit for tag 'etl' 'tag:etl': 2 slots." in out
    created = json.loads(_ok(env80, "concurrency-limit", "create",
                             "an-external-api-with-a-long-name", "10",
                             "--slot-decay-per-second", "0.5", "--json"))
    assert created["slot_decay_per_second"] == 0.5 and created["tag"] is None

    with concurrency("db", occupy=3):  # held by this process while the CLI looks
        listing = _ok(env80, "concurrency-limit", "ls")
        inspected = json.loads(_ok(env80, "concurrency-limit", "inspect", "db", "--json"))
        assert "Slots used" in _ok(env80, "concurrency-limit", "inspect", "db")
    assert all(len(line) <= 80 for line in listing.splitlines()), listing
    for name in ("db", "tag:etl", "an-external-api-with-a-long-name"):
        assert any(name in line for line in listing.splitlines()), (name, listing)
    assert inspected["active_slots"] == 3 and inspected["holders"] == 1
    rows = json_lines(_ok(env80, "concurrency-limit", "ls", "--json"))
    assert [r["name"] for r in rows] == ["an-external-api-with-a-long-name", "db", "tag:etl"]
    assert rows[2]["tag"] == "etl" and rows[2]["limit"] == 2
    assert json.loads(_ok(env80, "concurrency-limit", "inspect", "--tag", "etl",
                          "--json"))["name"] == "tag:etl"

    with concurrency("db", occupy=2):
        assert "every slot is free" in _ok(env80, "concurrency-limit", "reset", "db")
        assert json.loads(_ok(env80, "concurrency-limit", "inspect", "db",
                              "--json"))["active_slots"] == 0

    assert "Deleted concurrency limit 'tag:etl'." in _ok(env80, "concurrency-limit",
                                                          "delete", "--tag", "etl")
    refused(run_cli(env80, "concurrency-limit", "inspect", "--tag", "etl"),
            "concurrency limit 'tag:etl' not found")


def test_bad_input_is_one_error_line(env80: dict[str, str]) -> None:
    refused(run_cli(env80, "concurrency-limit", "create", "db", "many"),
            "LIMIT must be an integer >= 1, got 'many'")
    refused(run_cli(env80, "concurrency-limit", "create", "db", "0"), "limit must be an "
            "integer >= 1")
    refused(run_cli(env80, "concurrency-limit", "create", "a/b", "1"), "'a/b' is not valid")
    refused(run_cli(env80, "concurrency-limit", "create", "--tag", "db", "x", "1"),
            "give --tag TAG LIMIT")
    refused(run_cli(env80, "concurrency-limit", "create", "db", "1",
                    "--slot-decay-per-second", "-1"), "slot_decay_per_second must be >= 0")
    _ok(env80, "concurrency-limit", "create", "db", "1")
    refused(run_cli(env80, "concurrency-limit", "create", "db", "2"), "'db' already exists")
    refused(run_cli(env80, "concurrency-limit", "inspect"), "give a limit's NAME or --tag")
    refused(run_cli(env80, "concurrency-limit", "delete", "nope"), "'nope' not found")
    refused(run_cli(env80, "concurrency-limit", "reset", "nope"), "'nope' not found")
