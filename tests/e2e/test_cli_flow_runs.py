"""`tasks-core flow-run ...` end to end: real nested flows recorded here, the CLI reads them.

Flows run in this process against the test Redis (the `tc_env` fixture); the CLI is a
subprocess on the same Redis and key prefix.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks_core import task
from tasks_core.flow import flow
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, StateType
from tests.helpers import run_cli as cli

TRACEBACK = "Traceback (most recent call last)"


@task
def extract(n: int) -> int:
    return n


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def explode(message: str) -> None:
    raise ValueError(message)


@flow(name="child-a")
def child_a(x: int) -> int:
    return add(x, 1)


@flow(name="child-b")
def child_b(message: str) -> None:
    explode(message)


@flow(name="parent")
def parent(n: int) -> int:
    value = extract(n)
    child_b("kaboom", return_state=True)  # fails; the parent carries on
    return child_a(value)


@dataclass
class Tree:
    parent: str
    child_a: str
    child_b: str
    placeholder_a: str
    add: str
    explode: str






def record_tree() -> Tree:
    """parent -> extract, child-b (-> explode, Failed), child-a (-> add); their ids."""
    assert parent(2) == 3
    rt = get_runtime()
    rt.reporter.flush()
    store = rt.store
    flows = {r.name: r for r in store.get_many(store.list_ids("flow", limit=10))}
    tasks = {r.name: r for r in store.get_many(store.list_ids("task", limit=20))}
    return Tree(parent=flows["parent"].id, child_a=flows["child-a"].id,
                child_b=flows["child-b"].id,
                placeholder_a=flows["child-a"].parent_task_run_id or "",
                add=tasks["add"].id, explode=tasks["explode"].id)


def old_flow_run(hours: float) -> str:
    """A finished flow run created `hours` ago (written straight through the store)."""
    created = datetime.now(UTC) - timedelta(hours=hours)
    run_id = str(uuid.uuid4())
    get_runtime().store.create(RunRecord(
        id=run_id, kind="flow", name="old-flow", state=StateName.COMPLETED,
        state_type=StateType.COMPLETED, created=created, start_time=created,
        end_time=created + timedelta(seconds=3)))
    return run_id


def line_of(out: str, run_id: str) -> str:
    """The line showing `run_id` by its short id (tables and trees show 8 characters)."""
    return next(line for line in out.splitlines() if run_id[:8] in line)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("│ ").split("│")]


# -- inspect ------------------------------------------------------------------------------


def test_inspect_draws_the_run_tree_and_timeline(cli_env: dict[str, str]) -> None:
    ids = record_tree()

    shown = cli(cli_env, "flow-run", "inspect", ids.parent)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    head, tree_and_timeline = out.split("Run tree", 1)
    tree, chart = tree_and_timeline.split("Timeline", 1)
    assert f"Flow run {ids.parent}" in head and "Completed" in head
    assert '"n": 2' in head and "Runs in tree" in head
    assert "parent  flow  Completed" in line_of(tree, ids.parent)
    assert "child-a  subflow  Completed" in line_of(tree, ids.child_a)
    assert "child-b  subflow  Failed" in line_of(tree, ids.child_b)
    assert "add  task  Completed" in line_of(tree, ids.add)
    assert "explode  task  Failed" in line_of(tree, ids.explode)
    assert "extract  task  Completed" in tree
    assert ids.placeholder_a[:8] not in tree  # the nested flow stands in for its placeholder
    # nesting: each task is drawn under its own flow
    lines = tree.splitlines()
    row = {run_id: i for i, line in enumerate(lines) for run_id in vars(ids).values()
           if run_id[:8] in line}
    assert row[ids.parent] < row[ids.child_b] < row[ids.explode] < row[ids.child_a] < row[
        ids.add]
    indent = {run_id: len(line) - len(line.lstrip(" │├└─")) for run_id, line in
              ((r, lines[i]) for r, i in row.items())}
    assert indent[ids.parent] < indent[ids.child_a] < indent[ids.add]
    assert indent[ids.child_a] == indent[ids.child_b] and indent[ids.add] == indent[ids.explode]

    bars = [line for line in chart.splitlines() if "|" in line]
    assert bars[0].strip().startswith("|0s")
    names = [line.split("|")[0].strip() for line in bars[1:]]
    assert names == ["parent", "extract", "child-b", "explode", "child-a", "add"]
    assert all("█" in line for line in bars[1:])


def test_inspect_json_is_the_nested_tree(cli_env: dict[str, str]) -> None:
    ids = record_tree()

    shown = cli(cli_env, "flow-run", "inspect", ids.parent, "--json")
    assert shown.returncode == 0, shown.stderr
    root = json.loads(shown.stdout)
    assert (root["id"], root["kind"], root["state"]) == (ids.parent, "flow", "Completed")
    children = {child["name"]: child for child in root["children"]}
    assert set(children) == {"extract", "child-a", "child-b"}
    assert children["child-a"]["id"] == ids.child_a
    assert children["child-a"]["placeholder_id"] == ids.placeholder_a
    assert [(c["name"], c["state"]) for c in children["child-a"]["children"]] == [
        ("add", "Completed")]
    [failed] = children["child-b"]["children"]
    assert failed["state"] == "Failed" and failed["error"]["type"] == "ValueError"


def test_inspect_refuses_unknown_ids_and_task_runs(cli_env: dict[str, str]) -> None:
    ids = record_tree()

    unknown = cli(cli_env, "flow-run", "inspect", "no-such-run")
    assert unknown.returncode == 1
    assert "flow run 'no-such-run' not found" in unknown.stderr
    assert TRACEBACK not in unknown.stderr + unknown.stdout

    a_task = cli(cli_env, "flow-run", "inspect", ids.add)
    assert a_task.returncode == 1
    assert "is a task run" in a_task.stderr and f"task-run inspect {ids.add}" in a_task.stderr

    placeholder = cli(cli_env, "flow-run", "inspect", ids.placeholder_a)
    assert placeholder.returncode == 1
    assert f"flow-run inspect {ids.child_a}" in placeholder.stderr

    logs = cli(cli_env, "flow-run", "logs", "no-such-run")
    assert logs.returncode == 1 and "not found" in logs.stderr


# -- ls -----------------------------------------------------------------------------------


def test_ls_lists_and_filters_flow_runs(cli_env: dict[str, str]) -> None:
    ids = record_tree()
    old = old_flow_run(hours=3)

    listed = cli(cli_env, "flow-run", "ls")
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    for run_id in (ids.parent, ids.child_a, ids.child_b, old):
        assert run_id[:8] in out
    assert "Failed" in line_of(out, ids.child_b) and "old-flow" in line_of(out, old)
    assert cells(line_of(out, ids.parent))[-1] == "3"  # extract and two nested flows
    assert cells(line_of(out, ids.child_a))[-1] == "1"
    assert out.index(ids.parent[:8]) < out.index(old[:8])  # newest first

    by_flow = cli(cli_env, "flow-run", "ls", "--flow", "child-*")
    assert by_flow.returncode == 0, by_flow.stderr
    assert ids.child_a[:8] in by_flow.stdout and ids.child_b[:8] in by_flow.stdout
    assert ids.parent[:8] not in by_flow.stdout

    failed = cli(cli_env, "flow-run", "ls", "--state", "failed")
    assert failed.returncode == 0, failed.stderr
    assert ids.child_b[:8] in failed.stdout and ids.parent[:8] not in failed.stdout

    recent = cli(cli_env, "flow-run", "ls", "--since", "1h")
    assert recent.returncode == 0, recent.stderr
    assert ids.parent[:8] in recent.stdout and old[:8] not in recent.stdout
    earlier = cli(cli_env, "flow-run", "ls", "--since", "4h", "--state", "Completed")
    assert old[:8] in earlier.stdout and ids.child_b[:8] not in earlier.stdout

    limited = cli(cli_env, "flow-run", "ls", "--limit", "1")
    assert limited.returncode == 0 and sum(
        run_id[:8] in limited.stdout for run_id in (ids.parent, ids.child_a, ids.child_b, old)) == 1

    future = cli(cli_env, "flow-run", "ls", "--since", "2999-01-01T00:00")
    assert future.returncode == 0 and "No flow runs with since 2999-01-01" in future.stdout


def test_ls_rejects_bad_filters(cli_env: dict[str, str]) -> None:
    state = cli(cli_env, "flow-run", "ls", "--state", "Bogus")
    assert state.returncode == 1 and "unknown state 'Bogus'" in state.stderr
    since = cli(cli_env, "flow-run", "ls", "--since", "yesterday")
    assert since.returncode == 1
    assert "invalid time 'yesterday'" in since.stderr and "30m" in since.stderr
    for result in (state, since):
        assert TRACEBACK not in result.stderr


# -- logs ---------------------------------------------------------------------------------


def push_logs(tc_env: dict[str, Any], run_id: str, *entries: tuple[float, str, str]) -> None:
    base = datetime(2030, 1, 1, tzinfo=UTC)
    for seconds, level, message in entries:
        tc_env["client"].rpush(f"{tc_env['prefix']}:run:{run_id}:logs", json.dumps({
            "timestamp": (base + timedelta(seconds=seconds)).isoformat(), "level": level,
            "logger": "tasks_core.test", "message": message, "run_id": run_id}))


def test_logs_of_a_run_and_of_its_tree(cli_env: dict[str, str], tc_env: dict[str, Any]) -> None:
    ids = record_tree()
    push_logs(tc_env, ids.parent, (1, "INFO", "parent starts"), (9, "INFO", "parent ends"))
    push_logs(tc_env, ids.add, (5, "WARNING", "adding [bold]carefully[/bold]"))
    push_logs(tc_env, ids.child_a, (4, "INFO", "child-a starts"))

    own = cli(cli_env, "flow-run", "logs", ids.parent)
    assert own.returncode == 0, own.stderr
    assert "parent starts" in own.stdout and "parent ends" in own.stdout
    assert "child-a starts" not in own.stdout and "carefully" not in own.stdout
    assert "INFO" in line_of(own.stdout, "parent starts")
    assert "tasks_core.test" in own.stdout

    whole = cli(cli_env, "flow-run", "logs", ids.parent, "--tree")
    assert whole.returncode == 0, whole.stderr
    out = whole.stdout
    order = ["parent starts", "child-a starts", "adding [bold]carefully[/bold]", "parent ends"]
    positions = [out.index(message) for message in order]
    assert positions == sorted(positions)
    assert line_of(out, "parent starts").startswith("[parent]")
    assert line_of(out, "carefully").startswith("[add]") and "WARNING" in line_of(
        out, "carefully")
    assert line_of(out, "child-a starts").startswith("[child-a]")


def test_logs_of_a_run_without_entries(cli_env: dict[str, str]) -> None:
    old = old_flow_run(hours=1)
    result = cli(cli_env, "flow-run", "logs", old)
    assert result.returncode == 0, result.stderr
    assert f"No log entries for flow run {old}" in result.stdout


def test_a_malformed_log_entry_is_a_clear_error(
    cli_env: dict[str, str], tc_env: dict[str, Any]
) -> None:
    old = old_flow_run(hours=1)
    tc_env["client"].rpush(f"{tc_env['prefix']}:run:{old}:logs", "{not json")
    result = cli(cli_env, "flow-run", "logs", old)
    assert result.returncode == 1
    assert f"malformed log entry of run {old!r}" in result.stderr
    assert TRACEBACK not in result.stderr
