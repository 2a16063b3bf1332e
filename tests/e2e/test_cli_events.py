"""`tasks-core events ls | stream | emit` as subprocesses against the test Redis."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

from tasks_core import emit_event
from tasks_core.cli.events import parse_json_option, parse_labels
from tasks_core.errors import ValidationError
from tasks_core.process_runtime import get_runtime
from tests.helpers import ROOT, refused, run_cli, wait_until

RID = "tasks-core.resource.id"


def _seed() -> None:
    emit_event("acme.order.placed", {RID: "acme.order.1"},
               related=[{RID: "acme.customer.7", "tasks-core.resource.role": "customer"}])
    emit_event("acme.order.shipped", {RID: "acme.order.1"}, payload={"items": 2})
    emit_event("acme.invoice.sent", {RID: "acme.invoice.9"})
    get_runtime().emitter.flush()


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_ls_lists_newest_first_with_filters_and_json(cli_env: dict[str, str]) -> None:
    _seed()
    done = run_cli(cli_env, "events", "ls")
    assert done.returncode == 0, done.stderr
    assert "Events (3, newest first)" in done.stdout
    lines = done.stdout
    assert lines.index("acme.invoice.sent") < lines.index("acme.order.shipped") \
        < lines.index("acme.order.placed")
    every = _json_lines(run_cli(cli_env, "events", "ls", "--json").stdout)
    assert [e["event"] for e in every] == ["acme.invoice.sent", "acme.order.shipped",
                                           "acme.order.placed"]
    assert every[1]["payload"] == {"items": 2} and every[1]["received"]
    orders = _json_lines(run_cli(cli_env, "events", "ls", "--event", "acme.order.*",
                                 "--json").stdout)
    assert [e["event"] for e in orders] == ["acme.order.shipped", "acme.order.placed"]
    by_resource = _json_lines(run_cli(cli_env, "events", "ls", "-r", "acme.invoice.*",
                                      "--json").stdout)
    assert [e["event"] for e in by_resource] == ["acme.invoice.sent"]
    by_related = _json_lines(run_cli(cli_env, "events", "ls", "--related", "*.customer.?",
                                     "--json").stdout)
    assert [e["event"] for e in by_related] == ["acme.order.placed"]
    newest = _json_lines(run_cli(cli_env, "events", "ls", "--limit", "1", "--json").stdout)
    assert [e["event"] for e in newest] == ["acme.invoice.sent"]
    assert _json_lines(run_cli(cli_env, "events", "ls", "--since", "1h", "--json").stdout)
    assert run_cli(cli_env, "events", "ls", "--until", "1h", "--json").stdout == ""
    none = run_cli(cli_env, "events", "ls", "--event", "nothing.*")
    assert none.returncode == 0 and "No events match." in none.stdout


def test_ls_refuses_a_bad_time(cli_env: dict[str, str]) -> None:
    refused(run_cli(cli_env, "events", "ls", "--since", "yesterday"), "invalid time",
            "'yesterday'")


def test_emit_writes_an_event_in_tasks_cores_spelling(cli_env: dict[str, str]) -> None:
    done = run_cli(cli_env, "events", "emit", "acme.thing.done", "--resource",
                   "prefect.resource.id=acme.thing.1", "-r", "team=data",
                   "--related", '{"prefect.resource.id": "prefect.flow.etl", '
                                '"prefect.resource.role": "flow"}',
                   "--payload", '{"n": 3}', "--id", "fixed-id", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    [stored] = _json_lines(run_cli(cli_env, "events", "ls", "--json").stdout)
    assert stored["id"] == printed["id"] == "fixed-id"
    assert stored["resource"] == {RID: "acme.thing.1", "team": "data"}
    assert stored["related"] == [{RID: "tasks-core.flow.etl",
                                  "tasks-core.resource.role": "flow"}]
    assert stored["payload"] == {"n": 3}
    again = run_cli(cli_env, "events", "emit", "acme.thing.done", "-r", f"{RID}=x",
                    "--id", "fixed-id")
    assert again.returncode == 0 and "Emitted acme.thing.done on x (id fixed-id)." in again.stdout
    assert len(_json_lines(run_cli(cli_env, "events", "ls", "--json").stdout)) == 1  # deduped


def test_emit_refuses_bad_input_and_writes_nothing(cli_env: dict[str, str]) -> None:
    refused(run_cli(cli_env, "events", "emit", "a.b", "-r", "team=data"),
            "tasks-core.resource.id")
    refused(run_cli(cli_env, "events", "emit", "a.b", "-r", "nolabel"),
            "invalid --resource 'nolabel'", "KEY=VALUE")
    refused(run_cli(cli_env, "events", "emit", "a.b", "-r", f"{RID}=x", "--payload", "[1]"),
            "invalid --payload", "JSON object")
    refused(run_cli(cli_env, "events", "emit", "a.b", "-r", f"{RID}=x", "--payload", "{x"),
            "invalid --payload: not JSON")
    refused(run_cli(cli_env, "events", "emit", "a.b", "-r", f"{RID}=x", "--related",
                    '{"tasks-core.resource.id": "y"}'), "tasks-core.resource.role")
    refused(run_cli({**cli_env, "TASKS_CORE_EVENT_NAME_MAX_CHARS": "5"}, "events", "emit",
                    "a.long.name", "-r", f"{RID}=x"), "event_name_max_chars", "limit of 5")
    assert run_cli(cli_env, "events", "ls").stdout.strip() == "No events yet."


def test_stream_follows_live_events_until_interrupted(cli_env: dict[str, str],
                                                      tc_env: dict[str, Any]) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tasks_core.cli.main", "events", "stream",
                             "--event", "acme.order.*", "--json"], env=cli_env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # it shows only new events: wait until it blocks on the stream (XREAD BLOCK)
        wait_until(lambda: any(c.get("cmd") == "xread"
                               for c in tc_env["client"].client_list()), 30, 0.05,
                   "the stream command to follow the stream")
        _seed()
        lines: list[str] = []
        assert proc.stdout is not None

        def two_lines() -> bool:
            lines.append(proc.stdout.readline())  # type: ignore[union-attr]
            return len([line for line in lines if line.strip()]) >= 2
        wait_until(two_lines, 20, 0, "two streamed events")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, err
    streamed = _json_lines("".join(lines) + out)
    assert [e["event"] for e in streamed] == ["acme.order.placed", "acme.order.shipped"]


def test_stream_since_replays_then_follows(cli_env: dict[str, str]) -> None:
    _seed()
    proc = subprocess.Popen([sys.executable, "-m", "tasks_core.cli.main", "events", "stream",
                             "--since", "1h", "-r", "acme.invoice.*"], env=cli_env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert "acme.invoice.sent  acme.invoice.9" in line


def test_label_and_json_option_parsing() -> None:
    assert parse_labels(["a=1", "b=x=y", "a=2"]) == {"a": "2", "b": "x=y"}
    assert parse_json_option(None, "--payload", kind=dict) is None
    assert parse_json_option('{"a": 1}', "--related", kind=list) == [{"a": 1}]
    for bad in (["=x"], ["x"]):
        try:
            parse_labels(bad)
        except ValidationError as exc:
            assert "KEY=VALUE" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")


def test_cli_deployment_and_pool_changes_show_in_the_feed(cli_env: dict[str, str],
                                                          tc_env: dict[str, Any]) -> None:
    from tests.integration import sample_flows as f

    dep_id = f.pipeline.deploy("feed", work_pool_name=tc_env["queue"])
    get_runtime().emitter.flush()
    for args in (("deployment", "pause", "pipeline/feed"), ("work-pool", "create", "gpu"),
                 ("work-pool", "pause", "gpu")):
        done = run_cli(cli_env, *args)
        assert done.returncode == 0, (args, done.stderr)
    listed = _json_lines(run_cli(cli_env, "events", "ls", "--event", "tasks-core.deployment.*",
                                 "--event", "tasks-core.work-pool.*", "--json").stdout)
    assert [(e["event"], e["resource"]["tasks-core.resource.id"]) for e in listed] == [
        ("tasks-core.work-pool.paused", "tasks-core.work-pool.gpu"),
        ("tasks-core.deployment.paused", f"tasks-core.deployment.{dep_id}"),
        ("tasks-core.deployment.created", f"tasks-core.deployment.{dep_id}")]


def test_ls_at_80_columns_keeps_each_event_name_on_one_line(cli_env: dict[str, str]) -> None:
    emit_event("tasks-core.deployment.created", {RID: "tasks-core.deployment.6b1c7f3e-"
                                                      "1d2e-4f5a-9b8c-7d6e5f4a3b2c"})
    _seed()
    done = run_cli({**cli_env, "COLUMNS": "80"}, "events", "ls")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, done.stdout
    for name in ("tasks-core.deployment.created", "acme.order.placed", "acme.invoice.sent"):
        assert sum(name in line for line in lines) == 1, done.stdout  # `| grep NAME` finds it
    for i in range(300):  # more than a pipe buffer of JSON, so the writer meets a closed pipe
        emit_event("acme.bulk", {RID: f"acme.bulk.{i}"}, payload={"pad": "x" * 200})
    get_runtime().emitter.flush()
    stopped = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f"{sys.executable} -m tasks_core.cli.main events ls --limit 300 --json | head -c 10"],
        env=cli_env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0 and "Traceback" not in stopped.stderr, stopped.stderr
