"""Settings (tasks_core/settings.py): defaults, env, TOML file; configs/tasks-core.toml."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from tasks_core.settings import Settings, get_settings, reset_settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = ROOT / "configs" / "tasks-core.toml"
FIELDS = list(Settings.model_fields)
UNSET_IN_FILE = {"redis_url", "broker_url", "data_dir"}  # shown commented out


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No TASKS_CORE_* variables and no ./tasks-core.toml from outside the test."""
    for name in list(os.environ):
        if name.startswith("TASKS_CORE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    reset_settings()
    yield
    reset_settings()


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults() -> None:
    settings = Settings()
    assert settings.redis_url is None
    assert settings.broker_url is None
    assert settings.key_prefix == "tc"
    assert settings.default_pool == "default"
    assert settings.data_dir == Path.home() / ".tasks-core"
    assert settings.effective_broker_url is None


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_REDIS_URL", "redis://example:6379/3")
    monkeypatch.setenv("TASKS_CORE_KEY_PREFIX", "myapp")
    monkeypatch.setenv("TASKS_CORE_BATCH_SIZE", "7")
    monkeypatch.setenv("TASKS_CORE_HEARTBEAT_INTERVAL_SECONDS", "0.25")
    monkeypatch.setenv("TASKS_CORE_DATA_DIR", "/srv/tc")
    settings = get_settings()
    assert settings.redis_url == "redis://example:6379/3"
    assert settings.key_prefix == "myapp"
    assert settings.batch_size == 7
    assert settings.heartbeat_interval_seconds == 0.25
    assert settings.data_dir == Path("/srv/tc")
    assert settings.effective_broker_url == "redis://example:6379/3"


def test_environment_variable_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("tasks_core_default_pool", "io")
    assert Settings().default_pool == "io"


def test_get_settings_is_cached_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("TASKS_CORE_BATCH_SIZE", "9")
    assert get_settings() is first
    reset_settings()
    assert get_settings().batch_size == 9


def test_toml_file_named_by_tasks_core_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _write(tmp_path / "custom.toml",
                  'key_prefix = "fromfile"\nbatch_size = 11\nbroker_url = "amqp://h//"\n')
    monkeypatch.setenv("TASKS_CORE_CONFIG", str(path))
    settings = Settings()
    assert settings.key_prefix == "fromfile"
    assert settings.batch_size == 11
    assert settings.effective_broker_url == "amqp://h//"


def test_local_tasks_core_toml_is_read(tmp_path: Path) -> None:
    _write(tmp_path / "tasks-core.toml", "map_chunk_size = 3\n")  # tmp_path is the cwd
    assert Settings().map_chunk_size == 3


def test_environment_beats_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = _write(tmp_path / "custom.toml", 'key_prefix = "fromfile"\nbatch_size = 11\n')
    monkeypatch.setenv("TASKS_CORE_CONFIG", str(path))
    monkeypatch.setenv("TASKS_CORE_KEY_PREFIX", "fromenv")
    settings = Settings()
    assert settings.key_prefix == "fromenv"
    assert settings.batch_size == 11


@pytest.mark.parametrize("prefix", ["", "my app", "tc{1}", "tc*", "tc?"])
def test_bad_key_prefix_is_refused_with_a_clear_message(prefix: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(key_prefix=prefix)
    message = str(info.value)
    assert "key_prefix" in message
    assert repr(prefix) in message
    assert "no spaces, braces or globs" in message


def test_bad_key_prefix_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_KEY_PREFIX", "a b")
    with pytest.raises(ValidationError, match="key_prefix"):
        get_settings()


@pytest.mark.parametrize(("name", "value"), [("batch_size", 0), ("result_max_bytes", -1),
                                             ("heartbeat_interval_seconds", 0),
                                             ("connect_retries", -1)])
def test_out_of_range_values_are_refused(name: str, value: int) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings.model_validate({name: value})


def test_describe_is_plain_json() -> None:
    described = Settings(redis_url="redis://h:1/0").describe()
    assert set(described) == set(FIELDS)
    assert described["redis_url"] == "redis://h:1/0"
    assert isinstance(described["data_dir"], str)


# -- configs/tasks-core.toml documents every setting ------------------------------------------

def _key_lines() -> dict[str, int]:
    """Line index of each `key = value` line, commented out or not."""
    found: dict[str, int] = {}
    for index, line in enumerate(DOCUMENTED.read_text().splitlines()):
        match = re.match(r"^#?\s*([a-z_]+)\s*=", line)
        if match:
            found.setdefault(match.group(1), index)
    return found


def test_documented_file_names_every_setting() -> None:
    keys = _key_lines()
    missing = [name for name in FIELDS if name not in keys]
    assert not missing, f"configs/tasks-core.toml does not document {missing}"
    unknown = sorted(set(keys) - set(FIELDS))
    assert not unknown, f"configs/tasks-core.toml has keys Settings does not know: {unknown}"


def test_documented_file_describes_every_setting() -> None:
    lines = DOCUMENTED.read_text().splitlines()
    for name, index in _key_lines().items():
        comments = []
        above = index - 1
        while above >= 0 and lines[above].startswith("#"):
            comments.append(lines[above].lstrip("# ").strip())
            above -= 1
        description = Settings.model_fields[name].description
        assert description in comments, f"{name}: no comment '# {description}' above it"


def test_documented_file_is_valid_toml_with_the_defaults() -> None:
    data = tomllib.loads(DOCUMENTED.read_text())
    assert set(data) == set(FIELDS) - UNSET_IN_FILE
    defaults = Settings()
    for name, value in data.items():
        assert value == getattr(defaults, name), f"{name}: file says {value!r}"
        assert type(value) is type(getattr(defaults, name)), name


def test_documented_file_loads_through_tasks_core_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_CONFIG", str(DOCUMENTED))
    assert get_settings() == Settings.model_construct(**{
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
    })
