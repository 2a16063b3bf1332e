"""The CLI at 80 columns through a pipe, short ids, and `--json` on every `ls` and `inspect`.

Every command runs as a real subprocess with COLUMNS=80 and its stdout a pipe (not a
terminal), on the test Redis, against runs made here (in process and on a real worker),
deployments, pools and dead letters written through the public API and the store.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from typing import Any

from tasks_core import task
from tasks_core.flow import flow
from tasks_core.messages import DeadLetter
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.states import StateName, StateType
from tasks_core.work_pools import create_pool
from tests.helpers import json_lines, refused, run_cli
from tests.integration import sample_flows as f
from tests.integration import sample_tasks as t

WIDTH = 80
LONG_TASK = "fetch-customer-records-from-the-warehouse"
LONG_DEPLOYMENT = "a-deployment-with-a-rather-long-name"


@task(name=LONG_TASK)
def fetch_records(n: int) -> int:
    return n


@flow(name="my-flow")
def my_flow(n: int) -> int:
    return fetch_records(n)


def narrow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`tasks-core ARGS` at 80 columns, stdout a pipe; it must succeed, and fit unless it
    prints JSON (never wrapped: a JSON line is as long as its object)."""
    result = run_cli({**env, "COLUMNS": str(WIDTH)}, *args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    if "--json" not in args:
        too_wide = [line for line in result.stdout.splitlines() if len(line) > WIDTH]
        assert not too_wide, (args, too_wide)
    return result


def row(out: str, *fragments: str) -> list[str]:
    """The one table line holding every fragment (a grep), cut into its cells."""
    lines = [line for line in out.splitlines() if all(f in line for f in fragments)]
    assert len(lines) == 1, (fragments, out)
    return [cell.strip() for cell in lines[0].split("│")[1:-1]]


def record_flow() -> tuple[RunRecord, RunRecord]:
    """my-flow run in process, with one task run of a long name; (flow run, task run)."""
    assert my_flow(2) == 2
    rt = get_runtime()
    rt.reporter.flush()
    (flow_run,) = rt.store.get_many(rt.store.list_ids("flow", limit=5))
    (task_run,) = rt.store.get_many(rt.store.list_ids("task", limit=5))
    return flow_run, task_run


def make_run(run_id: str, *, kind: str = "task", name: str = "made") -> None:
    now = datetime.now(UTC)
    get_runtime().store.create(RunRecord(
        id=run_id, kind=kind, name=name, state=StateName.COMPLETED,
        state_type=StateType.COMPLETED, created=now, start_time=now, end_time=now))


# -- run listings at 80 columns -----------------------------------------------------------


def test_run_listings_keep_short_id_name_and_state_and_the_id_pastes_into_inspect(
    cli_env: dict[str, str],
) -> None:
    flow_run, task_run = record_flow()

    flows = narrow(cli_env, "flow-run", "ls").stdout
    cells = row(flows, "my-flow")  # `flow-run ls | grep my-flow` finds it
    short = cells[0]
    assert len(short) >= 8 and flow_run.id.startswith(short) and short != flow_run.id
    assert cells[1] == "my-flow" and cells[2] == "Completed"
    shown = narrow(cli_env, "flow-run", "inspect", short)
    assert f"Flow run {flow_run.id}" in shown.stdout and LONG_TASK in shown.stdout
    assert narrow(cli_env, "flow-run", "logs", short).returncode == 0

    tasks = narrow(cli_env, "task-run", "ls").stdout
    cells = row(tasks, LONG_TASK)  # the whole long name, on one line
    assert task_run.id.startswith(cells[0]) and cells[1:3] == [LONG_TASK, "Completed"]
    assert f"Task run {task_run.id}" in narrow(cli_env, "task-run", "inspect", cells[0]).stdout


def test_other_listings_keep_their_key_columns(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_worker: Any,
) -> None:
    queue = tc_env["queue"]
    start_worker(concurrency=1)
    deployment_id = f.pipeline.deploy(LONG_DEPLOYMENT, work_pool_name=queue, cron="0 * * * *",
                                      tags=["etl", "nightly", "a-long-tag-name"])
    create_pool("narrow-pool", description="a description " * 8)
    entry = DeadLetter.new("undecodable message: " + "x" * 120, queue=queue, raw="{bad",
                           stage="transport", task="tasks_core.run")
    get_runtime().deadletters.add(entry)

    cells = row(narrow(cli_env, "deployment", "ls").stdout, LONG_DEPLOYMENT)
    assert deployment_id.startswith(cells[0]) and cells[2] == "no"
    assert cells[1] == f"pipeline/{LONG_DEPLOYMENT}"  # never wrapped over lines
    assert LONG_DEPLOYMENT in narrow(cli_env, "deployment", "inspect", cells[0]).stdout

    cells = row(narrow(cli_env, "work-pool", "ls").stdout, "narrow-pool")
    assert cells[:2] == ["narrow-pool", "no"]

    cells = row(narrow(cli_env, "deadletter", "ls").stdout, entry.id[:8])
    assert cells[0] == entry.id[:8] and "tasks_core.run" in cells
    assert entry.id in narrow(cli_env, "deadletter", "inspect", cells[0]).stdout

    worker = narrow(cli_env, "worker", "ls").stdout
    cells = row(worker, f"{queue}@")
    assert cells[0].startswith(f"{queue}@") and "ago" in cells[-1]


# -- --json on every ls and inspect -------------------------------------------------------


def test_every_ls_and_inspect_takes_json(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_worker: Any,
) -> None:
    queue = tc_env["queue"]
    flow_run, task_run = record_flow()
    deployment_id = f.pipeline.deploy("d-json", work_pool_name=queue, interval=3600)
    create_pool("json-pool", concurrency_limit=2)
    entry = DeadLetter.new("why", queue=queue, raw="{bad", stage="transport")
    get_runtime().deadletters.add(entry)
    start_worker(concurrency=1)

    def lines(*args: str) -> list[dict[str, Any]]:
        return json_lines(narrow(cli_env, *args, "--json").stdout)

    def one(*args: str) -> dict[str, Any]:
        data = json.loads(narrow(cli_env, *args, "--json").stdout)
        assert isinstance(data, dict)
        return data

    (task_line,) = lines("task-run", "ls")
    assert task_line["id"] == task_run.id and task_line["name"] == LONG_TASK
    assert task_line["state"] == "Completed" and task_line["parent_flow_run_id"] == flow_run.id
    (flow_line,) = lines("flow-run", "ls")
    assert (flow_line["id"], flow_line["name"], flow_line["child_runs"]) == (
        flow_run.id, "my-flow", 1)
    (deployment,) = lines("deployment", "ls")
    assert deployment["id"] == deployment_id and deployment["full_name"] == "pipeline/d-json"
    pools = {pool["name"]: pool for pool in lines("work-pool", "ls")}
    assert pools["json-pool"]["concurrency_limit"] == 2 and pools["json-pool"]["paused"] is False
    (worker,) = lines("worker", "ls")
    assert worker["node"].startswith(f"{queue}@") and worker["alive"] is True
    (letter,) = lines("deadletter", "ls")
    assert letter["id"] == entry.id and letter["reason"] == "why"

    assert one("task-run", "inspect", task_run.id[:8])["id"] == task_run.id
    assert one("flow-run", "inspect", flow_run.id[:8])["children"][0]["id"] == task_run.id
    assert one("deployment", "inspect", deployment_id[:8])["id"] == deployment_id
    assert one("work-pool", "inspect", "json-pool")["concurrency_limit"] == 2
    assert one("deadletter", "inspect", entry.id[:8])["id"] == entry.id


def test_json_of_an_empty_listing_is_no_lines(cli_env: dict[str, str]) -> None:
    for args in (("task-run", "ls"), ("flow-run", "ls"), ("deployment", "ls"),
                 ("work-pool", "ls"), ("worker", "ls"), ("deadletter", "ls")):
        assert narrow(cli_env, *args, "--json").stdout == "", args


# -- short ids ----------------------------------------------------------------------------


def test_the_demos_8_character_id_of_a_run_on_a_worker_works_in_inspect(
    cli_env: dict[str, str], start_worker: Any,
) -> None:
    start_worker(concurrency=1)
    future = t.add.delay(2, 3)
    assert future.result(timeout=30) == 5
    shown = narrow(cli_env, "task-run", "inspect", future.id[:8])  # as the demo prints it
    assert f"Task run {future.id}" in shown.stdout and "Completed" in shown.stdout


def test_an_ambiguous_prefix_lists_the_matches_and_an_unknown_one_says_not_found(
    cli_env: dict[str, str],
) -> None:
    stem = uuid.uuid4().hex[:8]
    ids = [f"{stem}-{i:04d}-4000-8000-000000000000" for i in range(12)]
    for run_id in ids:
        make_run(run_id)

    ambiguous = run_cli(cli_env, "task-run", "inspect", stem)
    refused(ambiguous, f"task run id '{stem}' is ambiguous", ids[0], ids[9], "and more",
            "give more of it")
    assert ids[10] not in ambiguous.stderr  # at most ten listed
    assert run_cli(cli_env, "task-run", "inspect", ids[3][:13]).returncode == 0
    refused(run_cli(cli_env, "task-run", "cancel", stem), "ambiguous")

    refused(run_cli(cli_env, "task-run", "inspect", "0000zz"), "run '0000zz' not found",
            "tasks-core task-run ls")
    refused(run_cli(cli_env, "flow-run", "logs", "0000zz"), "run '0000zz' not found")
    refused(run_cli(cli_env, "flow-run", "cancel", "0000zz"), "run '0000zz' not found")
    refused(run_cli(cli_env, "task-run", "inspect", "ab*"), "run 'ab*' not found")  # no glob


def test_a_prefix_finds_runs_of_either_kind_and_cancel_takes_it(
    cli_env: dict[str, str],
) -> None:
    flow_id, task_id = (f"{uuid.uuid4().hex[:8]}-{uuid.uuid4()}" for _ in range(2))
    make_run(flow_id, kind="flow", name="a-flow")
    make_run(task_id)

    # a task run's prefix given to flow-run: the error says what it is
    refused(run_cli(cli_env, "flow-run", "inspect", task_id[:8]), f"run {task_id!r} is a "
            "task run", f"tasks-core task-run inspect {task_id}")
    ended = run_cli(cli_env, "flow-run", "cancel", flow_id[:8])
    assert ended.returncode == 0 and f"Flow run {flow_id} already ended" in ended.stdout


def test_a_deployment_is_found_by_a_unique_start_of_its_id(
    cli_env: dict[str, str], tc_env: dict[str, Any],
) -> None:
    deployment_id = f.pipeline.deploy("by-prefix", work_pool_name=tc_env["queue"])
    shown = run_cli(cli_env, "deployment", "inspect", deployment_id[:6])
    assert shown.returncode == 0 and "Deployment pipeline/by-prefix" in shown.stdout
    refused(run_cli(cli_env, "deployment", "inspect", "zzzz"), "deployment 'zzzz' not found")
