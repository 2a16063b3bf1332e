"""Settings (tasks_core/settings.py): defaults, env, TOML file; configs/tasks-core.toml."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from tasks_core.errors import ConfigurationError
from tasks_core.settings import Settings, get_settings, reset_settings
from tasks_core.settings_sources import NOT_SETTINGS, env_name, setting_sources

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = ROOT / "configs" / "tasks-core.toml"
FIELDS = list(Settings.model_fields)
UNSET_IN_FILE = {"redis_url", "broker_url", "data_dir", "api_key"}  # shown commented out


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
    with pytest.raises(ConfigurationError) as info:
        get_settings()
    assert str(info.value).startswith(
        "invalid setting key_prefix='a b' (from TASKS_CORE_KEY_PREFIX): ")


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


# -- mistakes in the file or the environment are refused, in one line naming them ------------


def test_misspelt_key_in_the_file_is_refused_with_the_closest_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _write(tmp_path / "custom.toml", 'batch_size = 3\nredis_ulr = "redis://h/0"\n')
    monkeypatch.setenv("TASKS_CORE_CONFIG", str(path))
    with pytest.raises(ConfigurationError) as info:
        Settings()
    assert str(info.value) == (
        f"unknown setting in {path}: 'redis_ulr' (did you mean 'redis_url'?) "
        "(see configs/tasks-core.toml for every setting)")


def test_misspelt_key_in_the_local_file_is_refused_too(tmp_path: Path) -> None:
    _write(tmp_path / "tasks-core.toml", "batch_sise = 3\n")  # tmp_path is the cwd
    with pytest.raises(ConfigurationError, match=r"'batch_sise' \(did you mean 'batch_size'"):
        get_settings()


def test_misspelt_environment_variable_is_refused_with_the_closest_one(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKS_CORE_REDIS_ULR", "redis://h/0")
    with pytest.raises(ConfigurationError) as info:
        Settings()
    assert str(info.value) == ("unknown environment variable TASKS_CORE_REDIS_ULR (did you "
                               "mean TASKS_CORE_REDIS_URL?): fix or unset it")


def test_an_unknown_variable_far_from_any_setting_gets_no_guess(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKS_CORE_ZZZ", "1")
    with pytest.raises(ConfigurationError) as info:
        Settings()
    assert str(info.value) == "unknown environment variable TASKS_CORE_ZZZ: fix or unset it"


@pytest.mark.parametrize("name", sorted(NOT_SETTINGS - {"TASKS_CORE_CONFIG"}))
def test_variables_read_outside_settings_are_allowed(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "1")
    assert Settings().batch_size == 500


def test_every_tasks_core_variable_named_in_the_project_is_known() -> None:
    """A TASKS_CORE_* name the code, tests or docs use is a setting or listed in
    NOT_SETTINGS, so no legitimate variable is refused as a misspelling."""
    known = {env_name(field) for field in FIELDS} | NOT_SETTINGS
    used: dict[str, str] = {}
    for folder in ("tasks_core", "workers", "beat", "tests", "bench", "configs", "docker"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".toml", ".yaml", ".yml", ".md", ""}:
                for name in re.findall(r"TASKS_CORE_[A-Z0-9_]*[A-Z0-9]", path.read_text(
                        errors="replace")):
                    used.setdefault(name, str(path.relative_to(ROOT)))
    for path in (ROOT / "README.md", ROOT / "Makefile"):
        for name in re.findall(r"TASKS_CORE_[A-Z0-9_]*[A-Z0-9]", path.read_text()):
            used.setdefault(name, path.name)
    unknown = {name: where for name, where in used.items() if name not in known
               and name != "TASKS_CORE_REDIS_ULR" and name != "TASKS_CORE_ZZZ"}
    assert not unknown, f"TASKS_CORE_* names neither settings nor in NOT_SETTINGS: {unknown}"


def test_config_naming_a_missing_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("TASKS_CORE_CONFIG", str(missing))
    with pytest.raises(ConfigurationError) as info:
        get_settings()
    assert str(info.value).startswith(f"TASKS_CORE_CONFIG names {missing}, which does not "
                                      "exist: fix the path, or unset TASKS_CORE_CONFIG")


def test_malformed_toml_names_the_file_line_and_column(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _write(tmp_path / "custom.toml", "batch_size = 3\nkey_prefix = = 2\n")
    monkeypatch.setenv("TASKS_CORE_CONFIG", str(path))
    with pytest.raises(ConfigurationError) as info:
        get_settings()
    assert str(info.value) == (f"settings file {path} is not valid TOML: Invalid value "
                               "(at line 2, column 14)")


def test_a_bad_value_names_the_setting_and_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _write(tmp_path / "custom.toml", 'batch_size = "many"\n')
    monkeypatch.setenv("TASKS_CORE_CONFIG", str(path))
    monkeypatch.setenv("TASKS_CORE_MAP_CHUNK_SIZE", "0")
    with pytest.raises(ConfigurationError) as info:
        get_settings()
    message = str(info.value)
    assert "\n" not in message
    assert f"batch_size='many' (from {path}): Input should be a valid integer" in message
    assert "map_chunk_size='0' (from TASKS_CORE_MAP_CHUNK_SIZE): Input should be greater " \
           "than 0" in message


def test_setting_sources_name_the_variable_the_file_or_default(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    sources = setting_sources(
        ["redis_url", "batch_size", "key_prefix", "data_dir"], path,
        {"batch_size": 3, "key_prefix": "file"},
        {"tasks_core_key_prefix": "env", "TASKS_CORE_REDIS_URL": "redis://h/0"})
    assert sources == {"redis_url": "TASKS_CORE_REDIS_URL", "batch_size": str(path),
                       "key_prefix": "tasks_core_key_prefix", "data_dir": "default"}


@pytest.mark.parametrize("url", ["htp://127.0.0.1:6379/0", "127.0.0.1:6379", "localhost"])
def test_a_redis_url_without_a_redis_scheme_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("TASKS_CORE_REDIS_URL", url)
    with pytest.raises(ConfigurationError) as info:
        get_settings()
    assert str(info.value) == (
        f"invalid setting redis_url={url!r} (from TASKS_CORE_REDIS_URL): {url!r} is not a "
        "Redis URL: it must start with redis://, rediss:// or unix:// "
        "(e.g. redis://localhost:6379/0)")


def test_a_broker_url_without_a_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_BROKER_URL", "localhost:5672")
    with pytest.raises(ConfigurationError, match=r"broker_url='localhost:5672'.*not a broker URL"):
        get_settings()
