"""Celery's own command line against a running tasks-core cluster (`celery -A tasks_core`,
`celery -A workers.app worker`), and the worker's node names, as real subprocesses.

pytest-celery's fixtures start workers in Docker containers, and celery.contrib.testing's
worker runs in the test process; neither is a `tasks-core worker` (leased node name,
heartbeats, prefork children), so these tests start real ones (`start_worker`) and run
`celery` as a subprocess with the test's environment.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any

from tasks_core import StateName
from tasks_core.process_runtime import get_runtime
from tasks_core.store.keys import Keys
from tests.helpers import ROOT, json_lines, run_cli, wait_until
from tests.integration import sample_tasks as t

HOST = socket.gethostname()


def celery(tc_env: dict[str, Any], *args: str, app: str = "tasks_core",
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`celery -A APP ARGS` as a subprocess with the test's environment."""
    return subprocess.run([sys.executable, "-m", "celery", "-A", app, *args],
                          env=tc_env["env"], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def replies(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON replies of `celery inspect ... --json`, by node name."""
    assert result.returncode == 0, result.stdout + result.stderr
    merged: dict[str, Any] = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            merged.update(json.loads(line))
    return merged


def test_inspect_active_lists_a_running_run(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1)
    future = t.record_pid_and_sleep.delay("active", 8)
    wait_until(lambda: future.state == StateName.RUNNING, 20, message="the run to start")
    active = replies(celery(tc_env, "inspect", "active", "--json"))
    assert list(active) == [f"{tc_env['queue']}@{HOST}"]
    (request,) = next(iter(active.values()))
    assert request["id"] == future.id and request["args"][0] == future.id
    assert future.result(timeout=20) == "done"


def test_inspect_stats_status_and_ping(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1)
    node = f"{tc_env['queue']}@{HOST}"
    stats = replies(celery(tc_env, "inspect", "stats", "--json"))
    assert stats[node]["pool"]["max-concurrency"] == 1
    status = celery(tc_env, "status")
    assert status.returncode == 0 and f"{node}: OK" in status.stdout
    assert "1 node online" in status.stdout
    assert replies(celery(tc_env, "inspect", "ping", "--json")) == {node: {"ok": "pong"}}


def test_purge_cancels_the_purged_runs_so_nothing_sends_them_again(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    futures = [t.add.delay(i, 1) for i in range(3)]
    mapped = t.add.map([10, 20], [1, 1])  # one chunk message carrying two runs
    queue = Keys(tc_env["prefix"]).broker_queue(tc_env["queue"])
    assert tc_env["client"].llen(queue) == 4
    purged = celery(tc_env, "purge", "-f")
    assert purged.returncode == 0, purged.stderr
    assert "Purged 4 messages from 1 known task queue" in purged.stdout
    assert tc_env["client"].llen(queue) == 0
    every = [*futures, *mapped]
    assert {f.state for f in every} == {StateName.CANCELLED}  # a purge means: not to run
    assert all("purged" in (f.record().state_message or "") for f in every)
    start_beat()
    start_worker(concurrency=1)
    later = t.add.delay(5, 1)  # the pool works; the purged runs stay Cancelled
    assert later.result(timeout=30) == 6
    assert {f.state for f in every} == {StateName.CANCELLED}


def test_two_workers_on_one_pool_get_distinct_names(tc_env: dict[str, Any],
                                                    start_worker: Any) -> None:
    start_worker(concurrency=1)
    start_worker(concurrency=1)
    pool = tc_env["queue"]
    names = {f"{pool}@{HOST}", f"{pool}-2@{HOST}"}
    assert set(replies(celery(tc_env, "inspect", "ping", "--json"))) == names
    listed = run_cli(tc_env["env"], "worker", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    workers = json_lines(listed.stdout)
    assert {w["node"] for w in workers} == names
    for worker in workers:
        assert worker["pools"] == [pool] and worker["queues"] == [pool]
        assert worker["concurrency"] == 1 and worker["pool_impl"] == "prefork"
        assert worker["active"] == 0 and worker["alive"] is True and worker["host"] == HOST
        assert {"pid", "started", "last_seen", "autoscale"} <= set(worker)
    table = run_cli(tc_env["env"], "worker", "ls")
    assert table.returncode == 0 and all(name in table.stdout for name in names)


def test_a_taken_hostname_is_refused(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1, extra=("--hostname", "alpha@%h"))
    assert set(replies(celery(tc_env, "inspect", "ping", "--json"))) == {f"alpha@{HOST}"}
    again = run_cli(tc_env["env"], "worker", "--pool", tc_env["queue"], "-n", "alpha@%h")
    assert again.returncode == 1
    assert f"node name 'alpha@{HOST}' is in use by a live worker" in again.stderr


def test_worker_ls_counts_active_runs(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=2)
    futures = [t.record_pid_and_sleep.delay(f"ls{i}", 6) for i in range(2)]
    wait_until(lambda: all(f.state == StateName.RUNNING for f in futures), 20,
               message="both runs to start")

    def active() -> int:
        out = run_cli(tc_env["env"], "worker", "ls", "--json")
        return int(json_lines(out.stdout)[0]["active"])
    wait_until(lambda: active() == 2, 10, 0.3, "worker ls to count 2 active runs")


def test_options_reach_celery(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1, extra=("--max-tasks-per-child", "7", "--prefetch-multiplier",
                                       "1", "--autoscale", "3,1", "-Q", "extra-q"))
    node = f"{tc_env['queue']}@{HOST}"
    stats = replies(celery(tc_env, "inspect", "stats", "--json"))[node]
    assert stats["pool"]["max-tasks-per-child"] == 7
    assert stats["autoscaler"]["max"] == 3 and stats["autoscaler"]["min"] == 1
    assert stats["prefetch_count"] == 3  # multiplier 1 x at most 3 processes
    queues = replies(celery(tc_env, "inspect", "active_queues", "--json"))[node]
    assert sorted(q["name"] for q in queues) == sorted([tc_env["queue"], "extra-q"])
    assert t.add.apply_async((2, 3), queue="extra-q").result(timeout=20) == 5
    (listed,) = json_lines(run_cli(tc_env["env"], "worker", "ls", "--json").stdout)
    assert listed["autoscale"] == [3, 1] and listed["queues"] == [tc_env["queue"], "extra-q"]


def _child_pids(tc_env: dict[str, Any], key: str) -> set[int]:
    pids = set()
    for i in range(3):
        t.record_pid_and_sleep.delay(f"{key}{i}", 0).result(timeout=20)
        pids.add(int(tc_env["client"].get(f"{tc_env['prefix']}:pid:{key}{i}")))
    return pids


def test_max_tasks_per_child_recycles_the_child(tc_env: dict[str, Any],
                                                start_worker: Any) -> None:
    start_worker(concurrency=1, extra=("--max-tasks-per-child", "1"))
    assert len(_child_pids(tc_env, "mt")) == 3


def test_max_memory_per_child_recycles_the_child(tc_env: dict[str, Any],
                                                 start_worker: Any) -> None:
    start_worker(concurrency=1, extra=("--max-memory-per-child", "1"))  # 1 KiB: always over
    assert len(_child_pids(tc_env, "mm")) == 3


def test_bad_names_options_and_imports_are_refused_by_worker_beat_and_work_pool_create(
        tc_env: dict[str, Any]) -> None:
    env = tc_env["env"]
    cases = [
        (("worker", "--pool", "bad name!"), "work pool 'bad name!' has ' ' and '!'"),
        (("work-pool", "create", "bad name!"), "work pool name 'bad name!' has ' ' and '!'"),
        (("worker", "--pool", "-lead"), "starts with '-'"),
        (("work-pool", "create", "_lead"), "starts with '_'"),
        (("worker", "--pool", "etl", "-Q", "ok,x/y"), "queue 'x/y' has '/'"),
        (("worker", "--pool", "etl:"), "work pool 'etl:': work queue name '' is empty"),
        (("worker", "--autoscale", "2,5"), "invalid --autoscale '2,5'"),
        (("worker", "--autoscale", "4", "--pool-impl", "threads"), "--autoscale act on"),
        (("worker", "--pool", "etl", "-i", "no_such_module"),
         "cannot import 'no_such_module' (--import): no module named 'no_such_module'"),
        (("beat", "-i", "no_such_package.tasks"),
         "cannot import 'no_such_package.tasks' (--import): no module named 'no_such_package'"),
    ]
    for args, expected in cases:
        result = run_cli(env, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert expected in " ".join(result.stderr.split()), (args, result.stderr)
    assert get_runtime().pools.names() == []


def test_celery_worker_on_tasks_core_is_refused(tc_env: dict[str, Any]) -> None:
    result = celery(tc_env, "worker", "--pool", "solo")
    assert result.returncode != 0
    assert "celery -A workers.app worker" in result.stderr


def test_celery_worker_on_workers_app_runs_tasks(tc_env: dict[str, Any]) -> None:
    queue = tc_env["queue"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-Q", queue, "-c", "1",
         "-n", "plain@%h", "--include", "tests.integration.sample_tasks"],
        env=tc_env["env"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert t.add.delay(20, 22).result(timeout=30) == 42
        (listed,) = json_lines(run_cli(tc_env["env"], "worker", "ls", "--json").stdout)
        assert listed["node"] == f"plain@{HOST}" and listed["pools"] == [queue]
    finally:
        proc.terminate()
        proc.wait(20)
    assert json_lines(run_cli(tc_env["env"], "worker", "ls", "--json").stdout) == []
