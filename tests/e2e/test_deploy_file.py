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


# -- the whole file is checked before anything is registered ------------------------------

ENTRY = """  - name: {name}
    entrypoint: tasks_core/demo/tasks.py:{flow}
    source: {root}
{extra}"""


def deployments_file(tmp_path: Path, *entries: tuple[str, str, str]) -> Path:
    """A deployments file of (name, flow, extra YAML lines) entries, sourced from ROOT."""
    text = "deployments:\n" + "".join(
        ENTRY.format(name=name, flow=flow, root=ROOT, extra=extra)
        for name, flow, extra in entries)
    path = tmp_path / "deployments.yaml"
    path.write_text(text)
    return path


def error_lines(done: Any) -> list[str]:
    """The lines of a refused deploy: exit 1, no traceback, nothing on stdout."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    assert "Deployed" not in done.stdout
    return [line.strip() for line in done.stderr.splitlines() if line.strip()]


def test_a_bad_second_entry_registers_none_of_three(
    tc_env: dict[str, Any], tmp_path: Path
) -> None:
    path = deployments_file(
        tmp_path,
        ("first", "etl", ""),
        ("second", "etl", "    cron: '99 * * * *'\n"),
        ("third", "nightly", "    parameters: {sources: [a]}\n"))
    lines = error_lines(run_cli(tc_env["env"], "deploy", "--all", "--file", str(path)))
    assert lines[0].startswith("error: deployments file") and "1 problem" in lines[0]
    assert "nothing registered" in lines[0]
    assert lines[1:] == ["deployment 'second' (entry 2), cron: invalid cron expression "
                         "'99 * * * *'"]
    assert deployment_store().list() == []

    # naming only good entries does not register them either: the file is checked whole
    lines = error_lines(run_cli(tc_env["env"], "deploy", "first", "third", "--file", str(path)))
    assert "deployment 'second' (entry 2), cron" in lines[1]
    assert deployment_store().list() == []

    # once the entry is mended, all three are registered
    path = deployments_file(tmp_path, ("first", "etl", ""),
                            ("second", "etl", "    cron: '9 * * * *'\n"),
                            ("third", "nightly", "    parameters: {sources: [a]}\n"))
    done = run_cli(tc_env["env"], "deploy", "--all", "--file", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[1] for line in done.stdout.splitlines()] == [
        "etl/first", "etl/second", "nightly/third"]
    assert {d.full_name for d in deployment_store().list()} == {
        "etl/first", "etl/second", "nightly/third"}


def test_every_bad_entry_is_named_with_its_field(tc_env: dict[str, Any], tmp_path: Path) -> None:
    path = deployments_file(
        tmp_path,
        ("fine", "etl", ""),
        ("typo", "etl", "    colour: red\n"),
        ("no-module", "nowhere", ""),
        ("bad-params", "etl", "    parameters: {source: [1, 2], limit: 3}\n"),
        ("bad-pool", "etl", "    work_pool: 'my pool'\n"),
        ("bad-zone", "etl", "    cron: '0 3 * * *'\n    timezone: Mars/Olympus\n"),
        ("bad-interval", "etl", "    interval: -5\n"),
        ("bad-rrule", "etl", "    schedules: [{rrule: 'FREQ=SOMETIMES'}]\n"),
        ("fine", "etl", "    tags: [again]\n"))
    text = path.read_text() + "  - entrypoint: tasks_core/demo/tasks.py:etl\n"
    text += f"  - name: other-source\n    entrypoint: x.py:f\n    source: {tmp_path}/gone\n"
    path.write_text(text)
    lines = error_lines(run_cli(tc_env["env"], "deploy", "--all", "--file", str(path)))
    assert "10 problems" in lines[0] and len(lines) == 11, lines
    expected = [
        ("deployment 'typo' (entry 2), colour:", "Extra inputs are not permitted"),
        ("deployment 'no-module' (entry 3), entrypoint:", "'nowhere' is missing, not a @flow"),
        ("deployment 'bad-params' (entry 4), parameters:", "source"),
        ("deployment 'bad-params' (entry 4), parameters:", "limit"),  # the same line
        ("deployment 'bad-pool' (entry 5), work_pool:", "has ' '"),
        ("deployment 'bad-zone' (entry 6), timezone:", "unknown time zone 'Mars/Olympus'"),
        ("deployment 'bad-interval' (entry 7), interval:", "greater than 0"),
        ("deployment 'bad-rrule' (entry 8), schedules.0:", "invalid rrule 'FREQ=SOMETIMES'"),
        ("deployment 'fine' (entry 9), name:", "'etl/fine' again (entry 1 makes it already)"),
        ("entry 10, name:", "Field required"),
        ("deployment 'other-source' (entry 11), source:", "does not exist"),
    ]
    body = lines[1:]
    for start, fragment in expected:
        assert any(line.startswith(start) and fragment in line for line in body), (
            start, fragment, body)
    assert deployment_store().list() == []


def test_a_file_of_the_wrong_shape_is_one_clear_line(
    tc_env: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "deployments.yaml"
    for text, fragment in [
        ("deployments: [\n", "is not valid YAML"),
        ("- name: x\n", "must hold a 'deployments:' list"),
        ("deployments: 3\n", "must hold a 'deployments:' list"),
        ("deployments: []\nflows: []\n", "unknown top-level key(s) flows (only 'deployments')"),
        ("deployments:\n  - just-a-name\n", "entry 1, entry: Input should be a valid "
                                             "dictionary or instance of DeploymentSpec"),
    ]:
        path.write_text(text)
        lines = error_lines(run_cli(tc_env["env"], "deploy", "--all", "--file", str(path)))
        assert any(fragment in line for line in lines), (text, lines)
    missing = error_lines(run_cli(tc_env["env"], "deploy", "--all", "--file",
                                  str(tmp_path / "none.yaml")))
    assert "cannot read deployments file" in missing[0] and len(missing) == 1
    path.write_text("deployments: []\n")
    empty = run_cli(tc_env["env"], "deploy", "--all", "--file", str(path))
    assert empty.returncode == 0 and "declares no deployments" in empty.stdout, empty.stderr
    lines = error_lines(run_cli(tc_env["env"], "deploy", "x", "--file", str(path)))
    assert lines == [f"error: {path} has no deployment named x (it has none)"]


def test_triggers_of_the_file_make_automations_and_bad_ones_are_named(
        tc_env: dict[str, Any], tmp_path: Path) -> None:
    from tasks_core.automations import Automation
    from tasks_core.automations.owned import owned_automations
    from tasks_core.events import EventTrigger
    from tasks_core.events.actions import RunDeployment

    trigger = ("    triggers:\n"
               "      - name: after any flow\n"
               "        expect: [prefect.flow-run.Completed]\n"
               "        match_related: {prefect.resource.id: 'prefect.flow.*'}\n"
               "        parameters: {source: '{{ event.resource.name }}'}\n")
    bad = "    triggers:\n      - {expect: [a], within: -3}\n      - {type: metric}\n"
    path = deployments_file(tmp_path, ("good", "etl", trigger), ("bad", "etl", bad))
    lines = error_lines(run_cli(tc_env["env"], "deploy", "--all", "--file", str(path)))
    assert any("deployment 'bad' (entry 2), triggers.0:" in line
               and "within: must be >= 0 s" in line for line in lines), lines
    assert any("deployment 'bad' (entry 2), triggers.1:" in line
               and "type" in line for line in lines), lines
    assert deployment_store().list() == [] and Automation.ls() == []

    path = deployments_file(tmp_path, ("good", "etl", trigger))
    done = run_cli(tc_env["env"], "deploy", "--all", "--file", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    deployment = deployment_store().get("etl/good")
    [automation] = owned_automations(deployment.id)
    assert automation.name == "after any flow"
    assert automation.trigger == EventTrigger(
        expect={"tasks-core.flow-run.Completed"},
        match_related={"tasks-core.resource.id": "tasks-core.flow.*"})
    assert automation.actions == [RunDeployment(
        deployment_id=deployment.id, parameters={"source": "{{ event.resource.name }}"})]
