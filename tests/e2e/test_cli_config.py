"""Settings and Redis mistakes at the command line: one clear line each, for every command,
at 80 columns (a pipe, CI logs); and `tasks-core config view`.

Each case runs the real CLI as a subprocess on a clean environment (no TASKS_CORE_* from
outside), in a temporary folder with no ./tasks-core.toml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port, refused

UNREACHABLE = ("cannot reach Redis at redis://127.0.0.1:{port}/0", "is redis-server running?")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    clean = {name: value for name, value in os.environ.items()
             if not name.upper().startswith(("TASKS_CORE_", "FLOWER_"))}
    yield {**clean, "PYTHONPATH": str(ROOT), "COLUMNS": "80", "NO_COLOR": "1",
           "TASKS_CORE_DATA_DIR": str(tmp_path / "data"), "TASKS_CORE_CONNECT_RETRIES": "0"}


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`tasks-core ARGS` in `cwd`, its output through pipes (as in CI)."""
    return subprocess.run([sys.executable, "-m", "tasks_core.cli.main", *args], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_cli_subprocess_imports_this_tree(env: dict[str, str], tmp_path: Path) -> None:
    code = "import tasks_core, sys; print(tasks_core.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    assert Path(out.strip()).parent == ROOT / "tasks_core"


# -- Redis unreachable: every command, one line, no traceback -------------------------------


@pytest.mark.parametrize("command", [
    ("worker", "--pool", "default", "-c", "1"),
    ("beat",),
    ("flower",),
    ("up", "--no-flower"),
    ("deploy", "--all", "--file", str(ROOT / "configs" / "deployments.yaml")),
    ("flow-run", "ls"),
    ("work-pool", "create", "etl"),
], ids=lambda command: command[0] if command[0] != "flow-run" else "flow-run-ls")
def test_unreachable_redis_is_one_line_for_every_command(
    env: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    port = free_port()
    result = cli({**env, "TASKS_CORE_REDIS_URL": f"redis://127.0.0.1:{port}/0"}, tmp_path,
                 *command)
    refused(result, *(fragment.format(port=port) for fragment in UNREACHABLE))


# -- settings mistakes ------------------------------------------------------------------------


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("command", [("worker",), ("beat",), ("config", "view")])
def test_malformed_toml_names_the_file_line_and_column(
    env: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    path = _toml(tmp_path, 'key_prefix = "x"\nbatch_size = = 3\n')
    result = cli({**env, "TASKS_CORE_CONFIG": str(path)}, tmp_path, *command)
    refused(result, f"settings file {path} is not valid TOML", "(at line 2, column 14)")


def test_malformed_local_tasks_core_toml_is_named_too(env: dict[str, str],
                                                      tmp_path: Path) -> None:
    (tmp_path / "tasks-core.toml").write_text("[broken\n")
    refused(cli(env, tmp_path, "flow-run", "ls"),
            "settings file tasks-core.toml is not valid TOML", "line 1")


@pytest.mark.parametrize("command", [("worker",), ("beat",), ("flow-run", "ls")])
def test_misspelt_key_in_the_file_is_refused_with_the_closest_one(
    env: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    path = _toml(tmp_path, 'redis_ulr = "redis://127.0.0.1:1/0"\n')
    result = cli({**env, "TASKS_CORE_CONFIG": str(path)}, tmp_path, *command)
    refused(result, f"unknown setting in {path}: 'redis_ulr' (did you mean 'redis_url'?)")


@pytest.mark.parametrize("command", [("worker",), ("beat",), ("up", "--no-flower")])
def test_misspelt_environment_variable_is_refused_with_the_closest_one(
    env: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = cli({**env, "TASKS_CORE_REDIS_ULR": "redis://127.0.0.1:1/0"}, tmp_path, *command)
    refused(result, "unknown environment variable TASKS_CORE_REDIS_ULR (did you mean "
                    "TASKS_CORE_REDIS_URL?)")


def test_config_naming_a_missing_file_names_the_path(env: dict[str, str],
                                                     tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "tasks-core.toml"
    result = cli({**env, "TASKS_CORE_CONFIG": str(missing)}, tmp_path, "worker")
    refused(result, f"TASKS_CORE_CONFIG names {missing}, which does not exist")


def test_a_bad_value_names_the_setting_and_its_source(env: dict[str, str],
                                                      tmp_path: Path) -> None:
    result = cli({**env, "TASKS_CORE_BATCH_SIZE": "lots"}, tmp_path, "beat")
    refused(result, "invalid setting batch_size='lots' (from TASKS_CORE_BATCH_SIZE): Input "
                    "should be a valid integer")


@pytest.mark.parametrize("command", [("worker",), ("beat",), ("task-run", "ls")])
def test_a_malformed_redis_url_is_one_line(env: dict[str, str], tmp_path: Path,
                                           command: tuple[str, ...]) -> None:
    result = cli({**env, "TASKS_CORE_REDIS_URL": "htp://127.0.0.1:1/0"}, tmp_path, *command)
    refused(result, "invalid setting redis_url='htp://127.0.0.1:1/0' (from "
                    "TASKS_CORE_REDIS_URL): 'htp://127.0.0.1:1/0' is not a Redis URL")


@pytest.mark.parametrize("package", ["beat", "workers"])
def test_a_project_folder_shadowing_beat_or_workers_is_one_line(
        env: dict[str, str], tmp_path: Path, package: str) -> None:
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    shadowed = {**env, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
                "TASKS_CORE_REDIS_URL": "redis://127.0.0.1:1/0"}
    command = "beat" if package == "beat" else "worker"
    refused(cli(shadowed, tmp_path, command),
            f"the '{package}' package Python finds first ({tmp_path / package}) is not "
            f"tasks-core's ({ROOT / package})")


# -- config view --------------------------------------------------------------------------


def test_config_view_names_each_source(env: dict[str, str], tmp_path: Path) -> None:
    path = _toml(tmp_path, 'batch_size = 7\nkey_prefix = "fromfile"\n')
    run_env = {**env, "TASKS_CORE_CONFIG": str(path), "TASKS_CORE_KEY_PREFIX": "fromenv",
               "TASKS_CORE_REDIS_URL": "redis://user:secret@127.0.0.1:1/0"}

    as_json = cli(run_env, tmp_path, "config", "view", "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert rows["batch_size"] == {"value": 7, "source": str(path.resolve())}
    assert rows["key_prefix"] == {"value": "fromenv", "source": "TASKS_CORE_KEY_PREFIX"}
    assert rows["redis_url"] == {"value": "redis://user:***@127.0.0.1:1/0",
                                 "source": "TASKS_CORE_REDIS_URL"}
    assert rows["data_dir"] == {"value": str(tmp_path / "data"), "source": "TASKS_CORE_DATA_DIR"}
    assert rows["map_chunk_size"] == {"value": 100, "source": "default"}
    from tasks_core.settings import Settings

    assert list(rows) == list(Settings.model_fields)  # every setting, in declaration order

    table = cli(run_env, tmp_path, "config", "view")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == f"Settings file: {path.resolve()}"
    assert len(lines) == 1 + len(rows), table.stdout  # one whole line per setting at 80
    assert "secret" not in table.stdout + as_json.stdout
    for setting, value, source in [("batch_size", "7", "custom.toml"),
                                   ("key_prefix", "fromenv", "TASKS_CORE_KEY_PREFIX"),
                                   ("map_chunk_size", "100", "default"),
                                   ("task_events", "false", "default"),
                                   ("redis_url", "redis://user:***@127.0.0.1:1/0",
                                    "TASKS_CORE_REDIS_URL")]:
        row = next(line for line in lines if line.startswith(f"{setting} "))
        assert f"= {value}  # {source}" in row, row


def test_config_view_without_a_file(env: dict[str, str], tmp_path: Path) -> None:
    result = cli(env, tmp_path, "config", "view")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Settings file: none"


# -- the embedded Redis: read-only commands never start it --------------------------------


@pytest.mark.parametrize("command", [("flow-run", "ls"), ("task-run", "inspect", "abc"),
                                     ("deployment", "ls"), ("worker", "ls")])
def test_a_read_only_command_says_the_embedded_redis_is_not_running(
    env: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    data_dir = tmp_path / "data"
    result = cli(env, tmp_path, *command)
    refused(result, f"the embedded Redis (data in {data_dir}) is not running and this command "
                    "only reads: start it with `tasks-core up`")
    assert not (data_dir / "redis.json").exists()  # nothing was started
