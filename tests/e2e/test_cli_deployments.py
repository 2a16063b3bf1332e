"""`tasks-core deployment ...` end to end: deployments made here, the CLI reads and runs them.

Deployments are created in this process against the test Redis (the `tc_env` fixture) on
this test's unique queue; the CLI is a subprocess on the same Redis and key prefix.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from tasks_core.cli.output import parse_assignments
from tasks_core.deployments import deployment_store
from tasks_core.errors import ValidationError
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName
from tests.e2e import watch_flows as w
from tests.helpers import ROOT
from tests.helpers import run_cli as cli
from tests.integration import sample_flows as f

TRACEBACK = "Traceback (most recent call last)"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")






def deploy(tc_env: dict[str, Any], name: str = "d1", **options: Any) -> str:
    return f.pipeline.deploy(name, work_pool_name=tc_env["queue"], parameters={"lon": 5},
                             **options)


def refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 1 with one clear error line naming every fragment, and no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert TRACEBACK not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


# -- parameters (pure) --------------------------------------------------------------------


def test_param_values_are_json_when_they_parse() -> None:
    assert parse_assignments(["lat=1", "name=abc", "xs=[1,2]", "ok=true", "n=\"1\"", "e="]) == {
        "lat": 1, "name": "abc", "xs": [1, 2], "ok": True, "n": "1", "e": ""}
    assert parse_assignments(["url=a=b"]) == {"url": "a=b"}
    with pytest.raises(ValidationError, match="KEY=VALUE"):
        parse_assignments(["lat"])


# -- ls and inspect -----------------------------------------------------------------------


def test_ls_and_inspect(cli_env: dict[str, str], tc_env: dict[str, Any]) -> None:
    empty = cli(cli_env, "deployment", "ls")
    assert empty.returncode == 0 and "No deployments" in empty.stdout
    deployment_id = deploy(tc_env, cron="0 * * * *", tags=["etl"])

    listed = cli(cli_env, "deployment", "ls")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "pipeline/d1" in line)
    assert tc_env["queue"] in row and "cron 0 * * * * (UTC)" in row
    assert "etl" in row and deployment_id[:8] in row and "no" in row

    shown = cli(cli_env, "deployment", "inspect", "pipeline/d1")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Deployment pipeline/d1" in out and "tests.integration.sample_flows:pipeline" in out
    assert '"lon": 5' in out and "No flow runs of this deployment" in out
    lat = next(line for line in out.splitlines() if line.strip().startswith("│ lat"))
    assert "number" in lat and "yes" in lat

    as_json = cli(cli_env, "deployment", "inspect", deployment_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["id"] == deployment_id and data["full_name"] == "pipeline/d1"
    assert data["entrypoint"] == "tests.integration.sample_flows:pipeline"
    assert data["parameters"] == {"lon": 5} and data["paused"] is False
    assert data["schedules"][0]["cron"] == "0 * * * *" and data["triggers"] == []
    assert data["parameter_summary"] == [
        {"name": "lat", "type": "number", "required": True},
        {"name": "lon", "type": "number", "required": False, "default": 0.0}]
    assert data["recent_flow_runs"] == []


# -- run ----------------------------------------------------------------------------------


def test_run_without_a_worker_creates_a_pending_run(
    cli_env: dict[str, str], tc_env: dict[str, Any]
) -> None:
    deployment_id = deploy(tc_env)
    started = cli(cli_env, "deployment", "run", "pipeline/d1", "--param", "lat=1")
    assert started.returncode == 0, started.stderr
    assert "Pending" in started.stdout
    match = UUID.search(started.stdout)
    assert match, started.stdout
    run = get_runtime().store.get(match.group(0))
    assert run.kind == "flow" and run.state == StateName.PENDING
    assert run.parameters == {"lon": 5, "lat": 1} and run.deployment_id == deployment_id
    assert run.queue == tc_env["queue"]

    shown = json.loads(cli(cli_env, "deployment", "inspect", "pipeline/d1", "--json").stdout)
    assert [r["id"] for r in shown["recent_flow_runs"]] == [run.id]

    # nothing serves the queue, so a short watch ends without a final state
    waited = cli(cli_env, "deployment", "run", "pipeline/d1", "-p", "lat=2", "--watch",
                 "--timeout", "0.3")
    refused(waited, "still Pending")


def test_run_refuses_bad_parameters(cli_env: dict[str, str], tc_env: dict[str, Any]) -> None:
    deploy(tc_env)
    refused(cli(cli_env, "deployment", "run", "pipeline/d1", "--param", "lat=north"),
            "lat: Input should be a valid number")
    refused(cli(cli_env, "deployment", "run", "pipeline/d1"), "lat: required")
    refused(cli(cli_env, "deployment", "run", "pipeline/d1", "--param", "lat"), "KEY=VALUE")
    refused(cli(cli_env, "deployment", "run", "pipeline/d1", "--timeout", "3"), "--watch")
    assert get_runtime().store.list_ids("flow") == []


def test_run_watch_prints_the_result_or_the_error(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_worker: Any
) -> None:
    deploy(tc_env)
    f.broken.deploy("b", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1, pool=tc_env["queue"])

    done = cli(cli_env, "deployment", "run", "pipeline/d1", "-p", "lat=2", "--watch",
               "--timeout", "30")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Final state: Completed" in done.stdout and '"sum": 7' in done.stdout

    failed = cli(cli_env, "deployment", "run", "broken/b", "--watch", "--timeout", "30")
    assert "Final state: Failed" in failed.stdout
    refused(failed, "RuntimeError: never loaded")


# -- pause, resume, delete, unknown names -------------------------------------------------


def test_pause_resume_and_delete(cli_env: dict[str, str], tc_env: dict[str, Any]) -> None:
    deployment_id = deploy(tc_env)
    deploy(tc_env, "d2")
    store = deployment_store()

    paused = cli(cli_env, "deployment", "pause", "pipeline/d1")
    assert paused.returncode == 0 and "paused" in paused.stdout, paused.stderr
    assert store.get("pipeline/d1").paused is True
    again = cli(cli_env, "deployment", "pause", deployment_id)
    assert again.returncode == 0 and "already paused" in again.stdout
    assert "paused" in next(line for line in cli(cli_env, "deployment", "ls").stdout
                            .splitlines() if "pipeline/d1" in line)
    resumed = cli(cli_env, "deployment", "resume", deployment_id)
    assert resumed.returncode == 0 and "resumed" in resumed.stdout, resumed.stderr
    assert store.get("pipeline/d1").paused is False

    deleted = cli(cli_env, "deployment", "delete", "pipeline/d2")
    assert deleted.returncode == 0 and "Deleted deployment pipeline/d2" in deleted.stdout
    assert [d.full_name for d in store.list()] == ["pipeline/d1"]
    refused(cli(cli_env, "deployment", "inspect", "pipeline/d2"),
            "deployment 'pipeline/d2' not found", "did you mean 'pipeline/d1'")


@pytest.mark.parametrize("command", ["inspect", "run", "pause", "resume", "delete"])
def test_unknown_names_suggest_close_ones(
    cli_env: dict[str, str], tc_env: dict[str, Any], command: str
) -> None:
    deploy(tc_env)
    refused(cli(cli_env, "deployment", command, "pipeline/d"),
            "'pipeline/d' not found", "did you mean 'pipeline/d1'")


# -- run --watch: each state as it happens ------------------------------------------------

STATE_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d) (\w+)")


def state_lines(output: str) -> list[tuple[int, str]]:
    """The 'HH:MM:SS State' lines of a watch: (seconds of the day, state), in order."""
    found = []
    for line in output.splitlines():
        if match := STATE_LINE.match(line):
            hours, minutes, seconds = (int(match.group(i)) for i in (1, 2, 3))
            found.append((hours * 3600 + minutes * 60 + seconds, match.group(4)))
    return found


def watch_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tasks_core.cli.main", "deployment", "run", "slow/w",
            "--watch", "--timeout", "60", *args]


def test_run_watch_prints_each_state_as_it_happens_through_a_pipe(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_worker: Any
) -> None:
    w.slow.deploy("w", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1, pool=tc_env["queue"])
    proc = subprocess.Popen(watch_command("-p", "seconds=2.5"), env=cli_env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(90, proc.kill)
    watchdog.start()
    lines, run_id, running_seen_live = [], "", False
    assert proc.stdout is not None
    for line in proc.stdout:  # each line as the CLI prints it
        lines.append(line)
        if not run_id and (match := UUID.search(line)):
            run_id = match.group(0)
        if STATE_LINE.match(line) and line.split()[1] == "Running":
            # printed while it happens: the flow (2.5 s of sleep) has not ended yet
            running_seen_live = get_runtime().store.state_of(run_id) == "Running"
    code = proc.wait(30)
    watchdog.cancel()
    out = "".join(lines)
    assert code == 0, (out, proc.stderr.read() if proc.stderr else "")
    states = state_lines(out)
    assert [state for _, state in states] == ["Pending", "Running", "Completed"], out
    assert states[2][0] - states[1][0] in (2, 3, 2 - 86400, 3 - 86400)  # the 2.5 s of sleep
    assert running_seen_live, out
    assert "Final state: Completed" in out and 'Result: "slept 2.5s"' in out
    assert "\x1b[" not in out  # plain text in a pipe: no spinner, no cursor movement


def test_run_watch_of_a_failing_flow_shows_failed_and_exits_1(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_worker: Any
) -> None:
    w.slow.deploy("w", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1, pool=tc_env["queue"])
    failed = cli(cli_env, "deployment", "run", "slow/w", "-p", "seconds=1", "-p", "fail=true",
                 "--watch", "--timeout", "60")
    assert [state for _, state in state_lines(failed.stdout)] == [
        "Pending", "Running", "Failed"], failed.stdout
    assert "Final state: Failed" in failed.stdout
    refused(failed, "RuntimeError: failed after 1s, as asked")


def test_run_watch_on_a_terminal_shows_a_spinner_above_the_state_lines(
    cli_env: dict[str, str], tc_env: dict[str, Any], start_worker: Any
) -> None:
    w.slow.deploy("w", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1, pool=tc_env["queue"])
    leader, follower = pty.openpty()
    proc = subprocess.Popen(watch_command("-p", "seconds=1.5"), env=cli_env, cwd=ROOT,
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the CLI exited and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(30) == 0
    screen = b"".join(chunks).decode(errors="replace")
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen).replace("\r", "\n")
    assert [state for _, state in state_lines(plain)] == ["Pending", "Running", "Completed"]
    assert "waited" in plain and "\x1b[?25l" in screen  # the status line, cursor hidden
    assert "Final state: Completed" in plain
