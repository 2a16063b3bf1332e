"""`tasks-core work-pool ...` end to end: the CLI (a subprocess) on the test Redis.

The CLI runs on the same Redis and key prefix as this process (the `tc_env` fixture), so
each change it makes is checked here with `pool_store()`. Refusals run side by side to
keep the file fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tasks_core.deployments import run_deployment
from tasks_core.work_pools import create_pool, pool_store
from tests.helpers import refused, run_cli
from tests.integration import sample_flows as f

Result = subprocess.CompletedProcess[str]


def cli(env: dict[str, str], *args: str) -> Result:
    return run_cli(env, "work-pool", *args)


def cli_all(env: dict[str, str], *commands: tuple[str, ...]) -> list[Result]:
    """Several CLI commands at once (each its own process); results in the same order."""
    procs = [subprocess.Popen([sys.executable, "-m", "tasks_core.cli.main", "work-pool",
                               *args], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for args in commands]
    results = []
    for args, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(list(args), proc.returncode, out, err))
    return results


def cells(result: Result, name: str) -> list[str]:
    """The table row of pool `name`, cell by cell (the name cell first)."""
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if f"│ {name} " in line)
    return [cell.strip() for cell in line.split("│")[1:-1]]


# -- create, ls, inspect ------------------------------------------------------------------


def test_create_ls_and_inspect(cli_env: dict[str, str], tc_env: dict[str, Any]) -> None:
    empty = cli(cli_env, "ls")
    assert empty.returncode == 0 and "No work pools" in empty.stdout, empty.stderr

    made = cli(cli_env, "create", "etl", "--concurrency", "2", "--description", "nightly [etl]")
    assert made.returncode == 0 and "Created work pool etl" in made.stdout, made.stderr
    other, again = cli_all(cli_env, ("create", "b-pool"), ("create", "etl"))
    assert other.returncode == 0, other.stderr
    refused(again, "work pool 'etl' already exists")

    store = pool_store()
    pool = store.get("etl")
    assert (pool.concurrency_limit, pool.description, pool.paused) == (2, "nightly [etl]", False)
    assert store.get("b-pool").concurrency_limit is None
    client = tc_env["client"]
    client.sadd(store.keys.work_pool_running("etl"), "run-a")
    client.zadd(store.keys.work_pool_parked("etl"), {"run-b": 1.0, "run-c": 2.0})

    listed, shown, as_json = cli_all(cli_env, ("ls",), ("inspect", "etl"),
                                     ("inspect", "etl", "--json"))
    assert cells(listed, "etl") == ["etl", "no", "2", "1", "2", "nightly [etl]"]
    assert cells(listed, "b-pool") == ["b-pool", "no", "none", "0", "0", "-"]

    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Work pool etl" in out and "nightly [etl]" in out
    assert "Running (1)" in out and "Parked (2)" in out
    assert all(run_id in out for run_id in ("run-a", "run-b", "run-c"))

    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["name"] == "etl" and data["paused"] is False
    assert data["concurrency_limit"] == 2 and data["description"] == "nightly [etl]"
    assert data["running"] == ["run-a"] and data["running_count"] == 1
    assert data["parked"] == ["run-b", "run-c"] and data["parked_count"] == 2


# -- pause, resume, set-concurrency -------------------------------------------------------


def test_pause_resume_and_set_concurrency(cli_env: dict[str, str],
                                         tc_env: dict[str, Any]) -> None:
    name = tc_env["queue"]
    create_pool(name)
    store = pool_store()

    paused = cli(cli_env, "pause", name)
    assert paused.returncode == 0 and f"Work pool {name} paused" in paused.stdout, paused.stderr
    assert store.get(name).paused is True
    again = cli(cli_env, "pause", name)
    assert again.returncode == 0 and "already paused" in again.stdout, again.stderr

    # a pending flow run (no worker serves the queue) that the paused pool's gate parked
    f.pipeline.deploy("p", work_pool_name=name)
    run = run_deployment("pipeline/p", parameters={"lat": 1}, timeout=0, as_subflow=False)
    assert store.acquire(name, run.id) is False and store.parked(name) == [run.id]

    resumed = cli(cli_env, "resume", name)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed; 1 parked flow run sent again" in resumed.stdout
    assert store.get(name).paused is False

    three = cli(cli_env, "set-concurrency", name, "3")
    assert three.returncode == 0 and "concurrency limit: 3" in three.stdout, three.stderr
    assert store.get(name).concurrency_limit == 3
    unlimited = cli(cli_env, "set-concurrency", name, "none")
    assert unlimited.returncode == 0 and "limit: none" in unlimited.stdout, unlimited.stderr
    assert store.get(name).concurrency_limit is None


# -- refusals -----------------------------------------------------------------------------


def test_unknown_pools_bad_names_and_bad_limits_exit_1(cli_env: dict[str, str],
                                                       tc_env: dict[str, Any]) -> None:
    create_pool("known", concurrency_limit=2)
    commands = [("pause", "nope"), ("resume", "nope"), ("inspect", "nope"),
                ("set-concurrency", "nope", "3"), ("set-concurrency", "known", "0"),
                ("set-concurrency", "known", "abc"), ("create", "bad name!"),
                ("create", "new", "--concurrency", "0")]
    results = cli_all(cli_env, *commands)
    for result in results[:4]:
        refused(result, "work pool 'nope' not found", "tasks-core work-pool create nope")
    refused(results[4], "invalid concurrency limit '0'", "none")
    refused(results[5], "invalid concurrency limit 'abc'")
    refused(results[6], "invalid work pool", "'bad name!' has ' ' and '!'", "ASCII letters")
    refused(results[7], "invalid concurrency limit '0'")

    store = pool_store()
    assert [p.name for p in store.list_pools()] == ["known"]
    assert store.get("known").concurrency_limit == 2


# -- one work queue of a pool -------------------------------------------------------------


def test_pause_and_resume_one_work_queue(cli_env: dict[str, str],
                                         tc_env: dict[str, Any]) -> None:
    name = tc_env["queue"]
    create_pool(name)
    store = pool_store()

    paused = cli(cli_env, "pause", name, "--queue", "high")
    assert paused.returncode == 0, paused.stderr
    assert f"Work queue high of pool {name} paused" in paused.stdout
    assert f"work-pool resume {name} --queue high" in " ".join(paused.stdout.split())
    again, other = cli_all(cli_env, ("pause", name, "--queue", "high"),
                           ("pause", name, "-q", "bulk"))
    assert again.returncode == 0 and "already paused" in again.stdout, again.stderr
    assert other.returncode == 0, other.stderr
    pool = store.get(name)
    assert (pool.paused, pool.paused_queues) == (False, ["bulk", "high"])

    # a pending flow run of the paused queue (no worker serves it) that the gate parked
    f.pipeline.deploy("hi", work_pool_name=name, work_queue_name="high")
    run = run_deployment("pipeline/hi", parameters={"lat": 1}, timeout=0, as_subflow=False)
    assert store.acquire(name, run.id, "high") is False and store.parked(name) == [run.id]

    listed, shown, as_json, lines = cli_all(
        cli_env, ("ls",), ("inspect", name), ("inspect", name, "--json"), ("ls", "--json"))
    assert cells(listed, name)[:2] == [name, "queues bulk, high"]
    assert shown.returncode == 0, shown.stderr
    assert any(line.split()[:4] == ["Paused", "queues", "bulk,", "high"]
               for line in shown.stdout.splitlines()), shown.stdout
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["paused"] is False and data["paused_queues"] == ["bulk", "high"]
    assert data["parked"] == [run.id]
    assert lines.returncode == 0, lines.stderr
    [line] = [json.loads(text) for text in lines.stdout.splitlines()]
    assert line["paused_queues"] == ["bulk", "high"]

    resumed = cli(cli_env, "resume", name, "--queue", "high")
    assert resumed.returncode == 0, resumed.stderr
    assert f"Work queue high of pool {name} resumed; 1 parked flow run sent again" \
        in resumed.stdout
    assert store.get(name).paused_queues == ["bulk"]
    not_paused = cli(cli_env, "resume", name, "--queue", "high")
    assert not_paused.returncode == 0 and "is not paused" in not_paused.stdout


def test_queue_options_refuse_unknown_pools_and_bad_names(cli_env: dict[str, str],
                                                          tc_env: dict[str, Any]) -> None:
    create_pool("known")
    results = cli_all(cli_env, ("pause", "nope", "--queue", "high"),
                      ("resume", "nope", "--queue", "high"),
                      ("pause", "known", "--queue", "hi gh"),
                      ("resume", "known", "--queue", "known:high"))
    for result in results[:2]:
        refused(result, "work pool 'nope' not found", "tasks-core work-pool create nope")
    refused(results[2], "work queue name 'hi gh' has ' '", "ASCII letters")
    refused(results[3], "work queue name 'known:high' has ':'")
    assert pool_store().get("known").paused_queues == []
