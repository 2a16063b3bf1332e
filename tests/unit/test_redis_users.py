"""Who uses the embedded Redis (pure parts): client names, the CLI's read-only commands, and
the line `tasks-core down` refuses with."""

from __future__ import annotations

import os

import pytest

from tasks_core.cli.main import command_role
from tasks_core.cli.processes import describe_users
from tasks_core.store.clients import HOST, RedisUser, client_name, parse_client_name

GROUPS = {"flow-run", "task-run", "deployment", "work-pool", "worker", "redis", "config",
          "deadletter"}


def test_client_names_round_trip_role_pid_and_host() -> None:
    name = client_name("worker")
    assert name == f"tasks-core:worker:{os.getpid()}@{HOST}"
    assert " " not in name
    assert parse_client_name(name) == ("worker", os.getpid(), HOST)


@pytest.mark.parametrize("name", ["", "celery", "tasks-core:worker", "tasks-core:x:pid@h",
                                  "other:worker:1@h"])
def test_other_client_names_are_not_ours(name: str) -> None:
    assert parse_client_name(name) is None


def test_roles_with_unsafe_characters_are_made_safe() -> None:
    assert client_name("my role\n").startswith("tasks-core:my-role-:")


@pytest.mark.parametrize(("argv", "expected"), [
    (["flow-run", "ls", "--state", "Late"], ("flow-run", True)),
    (["task-run", "inspect", "9488840d"], ("task-run", True)),
    (["flow-run", "logs", "abc", "--tree"], ("flow-run", True)),
    (["deployment", "ls", "--json"], ("deployment", True)),
    (["worker", "ls"], ("worker", True)),
    (["redis", "status"], ("redis", True)),
    (["config", "view"], ("config", True)),
    (["worker", "--pool", "etl"], ("worker", False)),
    (["flow-run", "cancel", "abc"], ("flow-run", False)),
    (["deployment", "run", "a/b"], ("deployment", False)),
    (["work-pool", "create", "etl"], ("work-pool", False)),
    (["up", "--no-flower"], ("up", False)),
    (["deploy", "--all", "--file", "ls"], ("deploy", False)),  # not a group: never reads
    ([], ("cli", False)),
    (["--help"], ("cli", False)),
])
def test_command_role_says_which_commands_only_read(
    argv: list[str], expected: tuple[str, bool]
) -> None:
    assert command_role(argv, GROUPS) == expected


def test_describe_users_names_processes_and_counts_other_connections() -> None:
    worker, beat = RedisUser("worker", 11, HOST), RedisUser("beat", 12, HOST)
    other = RedisUser("", None, "127.0.0.1:5000")
    assert describe_users([worker]) == "worker (pid 11)"
    assert describe_users([beat, worker]) == "beat (pid 12) and worker (pid 11)"
    assert describe_users([beat, worker, other, RedisUser("", None, "127.0.0.1:5001")]) == \
        "beat (pid 12), worker (pid 11) and 2 other connections"
    assert describe_users([other]) == "1 connection (127.0.0.1:5000)"
    assert describe_users([RedisUser("up", 5, "elsewhere")]) == "up (pid 5 on elsewhere)"
