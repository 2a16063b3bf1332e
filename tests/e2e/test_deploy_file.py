"""`tasks-core deploy` registers the deployments of a deployments file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks_core.deployments import deployment_store
from tests.helpers import ROOT, run_cli


def test_deploy_all_from_the_documented_file(tc_env: dict[str, Any]) -> None:
    done = run_cli(tc_env["env"], "deploy", "--all", "--file", "configs/deployments.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    names = {d.full_name for d in deployment_store().list()}
    assert names == {"nightly/nightly", "etl/on-demand"}
    nightly = deployment_store().get("nightly/nightly")
    assert nightly.schedules[0]["cron"] == "0 3 * * *"
    assert nightly.parameters == {"sources": ["orders", "invoices"]}


def test_bad_files_and_names_are_clear_errors(tc_env: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "deployments.yaml"
    bad.write_text("deployments:\n  - name: x\n    entrypoint: a.py:f\n    colour: red\n")
    done = run_cli(tc_env["env"], "deploy", "--all", "--file", str(bad))
    assert done.returncode == 1 and "colour" in done.stdout + done.stderr
    done = run_cli(tc_env["env"], "deploy", "nope", "--file", "configs/deployments.yaml")
    assert done.returncode == 1 and "no deployment named nope" in done.stdout + done.stderr
    bad.write_text("deployments:\n  - name: x\n    entrypoint: tasks_core/demo/tasks.py:etl\n"
                   f"    source: {ROOT}\n    cron: '99 * * * *'\n")
    done = run_cli(tc_env["env"], "deploy", "--all", "--file", str(bad))
    assert done.returncode == 1 and "invalid cron" in done.stdout + done.stderr
    assert deployment_store().list() == []
