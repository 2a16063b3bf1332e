"""`tasks-core variable ls | get | set | delete` as subprocesses through a pipe, 80 columns
wide, against the test Redis."""

from __future__ import annotations

import json

import pytest

from tests.helpers import json_lines, refused, run_cli


@pytest.fixture
def env80(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "COLUMNS": "80"}


def _ok(env: dict[str, str], *args: str) -> str:
    done = run_cli(env, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def test_set_get_ls_delete(env80: dict[str, str]) -> None:
    assert "No variables" in _ok(env80, "variable", "ls")
    assert "Set variable 'answer'." in _ok(env80, "variable", "set", "answer", "42")
    _ok(env80, "variable", "set", "greeting", "hello world", "--tag", "demo")
    _ok(env80, "variable", "set", "config", '{"retries": 3, "region": "eu"}')
    long_value = json.dumps({"text": "a long value " * 30})
    _ok(env80, "variable", "set", "a_rather_long_variable_name_that_takes_room", long_value)

    assert _ok(env80, "variable", "get", "answer") == "42\n"
    assert _ok(env80, "variable", "get", "greeting") == "hello world\n"  # a string as is
    assert json.loads(_ok(env80, "variable", "get", "config")) == {"retries": 3,
                                                                     "region": "eu"}
    record = json.loads(_ok(env80, "variable", "get", "greeting", "--json"))
    assert record["value"] == "hello world" and record["tags"] == ["demo"]

    listing = _ok(env80, "variable", "ls")
    assert all(len(line) <= 80 for line in listing.splitlines()), listing
    for name in ("answer", "greeting", "config", "a_rather_long_variable_name_that_takes_room"):
        assert any(name in line for line in listing.splitlines()), (name, listing)
    rows = json_lines(_ok(env80, "variable", "ls", "--json"))
    assert [r["name"] for r in rows] == ["a_rather_long_variable_name_that_takes_room",
                                          "answer", "config", "greeting"]
    assert rows[1]["value"] == 42 and set(rows[1]) == {"name", "value", "tags", "created",
                                                       "updated"}

    refused(run_cli(env80, "variable", "set", "answer", "43"), "'answer' already exists",
            "--overwrite")
    _ok(env80, "variable", "set", "answer", "43", "--overwrite")
    assert _ok(env80, "variable", "get", "answer") == "43\n"

    assert "Deleted variable 'answer'." in _ok(env80, "variable", "delete", "answer")
    refused(run_cli(env80, "variable", "get", "answer"), "variable 'answer' not found")
    refused(run_cli(env80, "variable", "delete", "answer"), "variable 'answer' not found")


def test_bad_input_is_one_error_line(env80: dict[str, str]) -> None:
    refused(run_cli(env80, "variable", "set", "Bad Name", "1"),
            "variable name 'Bad Name' is not valid")
    refused(run_cli(env80, "variable", "set", "big", "x" * 5001), "over the limit of 5000")
    assert _ok(env80, "variable", "ls", "--json") == ""
