"""`tasks-core automation ls | inspect | create | pause | resume | delete | test` as
subprocesses through a pipe, 80 columns wide, against the test Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tasks_core import emit_event
from tasks_core.automations import Automation
from tasks_core.process_runtime import get_runtime
from tests.helpers import json_lines, refused, run_cli
from tests.integration import sample_flows as f

RID = "tasks-core.resource.id"

YAML = """\
name: failed etl
description: tell someone
tags: [ops]
trigger:
  expect: [prefect.flow-run.Failed]            # Prefect's spelling
  match_related: {prefect.resource.id: "prefect.flow.etl"}
actions:
  - type: do-nothing
"""


@pytest.fixture
def env80(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "COLUMNS": "80"}


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_create_from_yaml_and_json_then_ls_inspect_pause_resume_delete(
        env80: dict[str, str], tmp_path: Path) -> None:
    dep_id = f.pipeline.deploy("nightly", work_pool_name="default")
    done = run_cli(env80, "automation", "create", "--file", _write(tmp_path, "a.yaml", YAML))
    assert done.returncode == 0, done.stderr
    assert "Created automation failed etl (" in done.stdout
    as_json = json.dumps([{"name": "rerun nightly", "trigger": {"expect": ["acme.*"]},
                           "actions": [{"type": "run-deployment",
                                        "deployment_name": "pipeline/nightly"}]}])
    done = run_cli(env80, "automation", "create", "-f", _write(tmp_path, "b.json", as_json))
    assert done.returncode == 0, done.stderr

    listing = run_cli(env80, "automation", "ls")
    assert listing.returncode == 0, listing.stderr
    assert "failed etl" in listing.stdout and "rerun nightly" in listing.stdout
    assert all(len(line) <= 80 for line in listing.stdout.splitlines())
    lines = json_lines(run_cli(env80, "automation", "ls", "--json").stdout)
    assert [a["name"] for a in lines] == ["failed etl", "rerun nightly"]
    assert lines[0]["trigger"]["expect"] == ["tasks-core.flow-run.Failed"]
    assert lines[0]["trigger"]["match_related"] == {RID: "tasks-core.flow.etl"}
    assert lines[1]["actions"][0]["deployment_name"] == "pipeline/nightly"
    assert dep_id  # the action's deployment exists

    shown = run_cli(env80, "automation", "inspect", "failed etl")
    assert shown.returncode == 0, shown.stderr
    assert "tell someone" in shown.stdout and "tasks-core.flow-run.Failed" in shown.stdout
    assert "Do nothing" in shown.stdout
    by_prefix = json.loads(run_cli(env80, "automation", "inspect", lines[1]["id"][:8],
                                   "--json").stdout)
    assert by_prefix["name"] == "rerun nightly"

    assert "Automation failed etl paused." in run_cli(env80, "automation", "pause",
                                                      "failed etl").stdout
    assert "already paused" in run_cli(env80, "automation", "pause", "failed etl").stdout
    assert Automation.read("failed etl").enabled is False
    assert "paused" in run_cli(env80, "automation", "ls").stdout
    assert "resumed" in run_cli(env80, "automation", "resume", "failed etl").stdout
    assert Automation.read("failed etl").enabled is True

    refused(run_cli(env80, "automation", "delete", "failed etl"), "pass --yes")
    done = run_cli(env80, "automation", "delete", "failed etl", "--yes")
    assert done.returncode == 0 and "Deleted automation failed etl" in done.stdout
    assert [a.name for a in Automation.ls()] == ["rerun nightly"]
    events = json_lines(run_cli(env80, "events", "ls", "--event", "tasks-core.automation.*",
                                "--json").stdout)
    assert [e["event"].rsplit(".", 1)[1] for e in reversed(events)] == [
        "created", "created", "updated", "updated", "deleted"]


def test_refusals_are_one_clear_line(env80: dict[str, str], tmp_path: Path) -> None:
    bad_window = _write(tmp_path, "w.yaml", YAML.replace("trigger:\n", "trigger:\n  within: -5\n"))
    refused(run_cli(env80, "automation", "create", "--file", bad_window),
            "automation 'failed etl': trigger:", "within: must be >= 0 s")
    unknown = _write(tmp_path, "d.yaml", YAML.replace(
        "  - type: do-nothing", "  - {type: run-deployment, deployment_name: nope/nothing}"))
    refused(run_cli(env80, "automation", "create", "--file", unknown),
            "deployment 'nope/nothing' not found")
    template = _write(tmp_path, "t.yaml", YAML.replace(
        "  - type: do-nothing", "  - {type: send-notification, body: '{{ event.'}"))
    refused(run_cli(env80, "automation", "create", "--file", template),
            "SendNotification: body: invalid template")
    no_actions = _write(tmp_path, "n.yaml", YAML.replace("  - type: do-nothing", "  []")
                        .replace("actions:\n", "actions:"))
    refused(run_cli(env80, "automation", "create", "--file", no_actions),
            "needs at least one action")
    assert Automation.ls() == []  # nothing was stored
    good = _write(tmp_path, "g.yaml", YAML)
    assert run_cli(env80, "automation", "create", "--file", good).returncode == 0
    refused(run_cli(env80, "automation", "create", "--file", good),
            "automation name 'failed etl' is taken")
    refused(run_cli(env80, "automation", "inspect", "failed elt"),
            "automation 'failed elt' not found (did you mean 'failed etl'?)")
    refused(run_cli(env80, "automation", "create", "--file", str(tmp_path / "missing.yaml")),
            "cannot read automation file")
    refused(run_cli(env80, "automation", "test", "failed etl", "--since", "soon"),
            "invalid time 'soon'")


def _emit_orders(count: int, customer: str) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    for i in range(count):
        emit_event("acme.order.placed", {RID: f"acme.order.{i}", "customer": customer},
                   occurred=start + timedelta(seconds=i))
    get_runtime().emitter.flush()


def _create(name: str, trigger: dict[str, Any]) -> None:
    Automation(name, trigger, [{"type": "do-nothing"}]).create()


def test_automation_test_replays_stored_events(env80: dict[str, str]) -> None:
    _emit_orders(3, customer="acme")
    _create("three orders", {"expect": ["acme.order.placed"], "threshold": 3, "within": 60})
    _create("orders of bigco", {"expect": ["acme.order.placed"],
                                "match": {"customer": "bigco"}})
    _create("ten orders", {"expect": ["acme.order.placed"], "threshold": 10, "within": 60})

    fired = run_cli(env80, "automation", "test", "three orders", "--since", "1h")
    assert fired.returncode == 0, fired.stderr
    assert "would have fired once" in fired.stdout and "acme.order.placed" in fired.stdout
    assert "6 events from" in fired.stdout  # the 3 orders and 3 automation.created

    label = run_cli(env80, "automation", "test", "orders of bigco")
    assert label.returncode == 0, label.stderr
    assert "never fired" in label.stdout
    assert "label 'customer' of the resource never matched ['bigco']" in label.stdout

    threshold = run_cli(env80, "automation", "test", "ten orders", "--since", "1h")
    assert "threshold not reached: got 3 of 10 matching events within 60 s" in \
        threshold.stdout

    before = run_cli(env80, "automation", "test", "three orders", "--since", "2h",
                     "--until", "1h")
    assert "never fired over 0 events" in before.stdout
