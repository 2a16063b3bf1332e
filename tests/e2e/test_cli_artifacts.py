"""`tasks-core artifact ...` end to end: the CLI (a subprocess) on the test Redis.

Artifacts are made here through `tasks_core.artifacts` (in a flow and outside any run) and
read by the CLI under the same key prefix, at 80 columns through a pipe.
"""

from __future__ import annotations

import json
import subprocess

from tasks_core import flow
from tasks_core.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
)
from tests.helpers import refused, run_cli

Result = subprocess.CompletedProcess[str]


def cli(env: dict[str, str], *args: str) -> Result:
    result = run_cli({**env, "COLUMNS": "80"}, "artifact", *args)
    return result


@flow
def publishing(version: int) -> str:
    create_table_artifact({"city": ["Oslo", "Lima"], "n": [3, 5]}, key="cities",
                          description="city counts")
    create_link_artifact("https://example.com/x.csv", link_text="the data")  # no key
    return str(create_markdown_artifact(f"# v{version}", key="sales-report"))


def test_ls_shows_the_latest_version_of_each_key(cli_env: dict[str, str]) -> None:
    first = publishing(1)
    second = publishing(2)
    result = cli(cli_env, "ls")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), result.stdout
    assert "Artifacts (2)" in result.stdout
    assert next(line for line in lines if "sales-report" in line).split()[1] == second[:8]
    assert first[:8] not in result.stdout and "example.com" not in result.stdout
    listed = [json.loads(line) for line in cli(cli_env, "ls", "--json").stdout.splitlines()]
    assert [a["key"] for a in listed] == ["sales-report", "cities"]
    assert listed[0]["id"] == second and listed[0]["data"] == "# v2"
    assert listed[0]["flow_run_id"] and listed[0]["type"] == "markdown"
    versions = [json.loads(line)["id"] for line in
                cli(cli_env, "ls", "--key", "sales-report", "--json").stdout.splitlines()]
    assert versions == [second, first]
    run_listing = cli(cli_env, "ls", "--run", listed[0]["flow_run_id"], "--json").stdout
    assert [json.loads(line)["type"] for line in run_listing.splitlines()] == [
        "table", "link", "markdown"]


def test_inspect_by_key_id_and_id_start(cli_env: dict[str, str]) -> None:
    first = publishing(1)
    second = publishing(2)
    by_key = json.loads(cli(cli_env, "inspect", "sales-report", "--json").stdout)
    assert by_key["id"] == second and by_key["versions"] == [second, first]
    by_id = json.loads(cli(cli_env, "inspect", first, "--json").stdout)
    assert by_id["data"] == "# v1" and by_id["versions"] == [second, first]
    text = cli(cli_env, "inspect", second[:8])
    assert text.returncode == 0, text.stderr
    assert f"Artifact {second}" in text.stdout and "# v2" in text.stdout
    table = cli(cli_env, "inspect", "cities").stdout
    assert "city | n" in table and "Oslo | 3" in table and "city counts" in table
    progress = str(create_progress_artifact(42.5, key="load"))
    assert "42.5%" in cli(cli_env, "inspect", progress).stdout


def test_unknown_names_and_bad_keys_are_one_clear_error(cli_env: dict[str, str]) -> None:
    refused(cli(cli_env, "inspect", "no-such-report"), "artifact 'no-such-report' not found",
            "tasks-core artifact ls")
    refused(cli(cli_env, "ls", "--key", "Bad_Key"), "artifact key 'Bad_Key' is invalid")
    empty = cli(cli_env, "ls")
    assert empty.returncode == 0 and "No artifacts with a key." in empty.stdout
