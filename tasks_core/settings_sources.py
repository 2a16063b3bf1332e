"""Where settings come from, checked: the TOML file and the ``TASKS_CORE_*`` environment.

Pure helpers of `tasks_core.settings` (and of `tasks-core config view`). Every mistake is a
`ConfigurationError` with one line that names the file or variable and the fix:

- ``TASKS_CORE_CONFIG`` naming a file that does not exist;
- a settings file that is not valid TOML (the line and column, from tomllib);
- a key in the file, or a ``TASKS_CORE_*`` variable, that names no setting (with the
  closest known name, from difflib).

A ``TASKS_CORE_*`` variable that is not a setting but is read elsewhere must be listed in
`NOT_SETTINGS`, or it is refused as a misspelling.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from tasks_core.errors import ConfigurationError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_FILE",
    "ENV_PREFIX",
    "NOT_SETTINGS",
    "check_environment",
    "config_file",
    "describe_invalid",
    "env_name",
    "read_config_file",
    "setting_sources",
]

ENV_PREFIX = "TASKS_CORE_"
CONFIG_ENV = "TASKS_CORE_CONFIG"
DEFAULT_FILE = Path("tasks-core.toml")

NOT_SETTINGS = frozenset({
    CONFIG_ENV,                        # names the settings file itself
    "TASKS_CORE_FLOWER_BASIC_AUTH",    # `tasks-core flower --basic-auth` (kept out of argv)
    "TASKS_CORE_SKIP_RABBITMQ",        # tests/integration/test_rabbitmq_broker.py
})
"""``TASKS_CORE_*`` variables read outside Settings: allowed, never taken as misspellings."""


def env_name(field: str) -> str:
    """The environment variable of a setting: ``batch_size`` -> ``TASKS_CORE_BATCH_SIZE``."""
    return f"{ENV_PREFIX}{field.upper()}"


def config_file(environ: Mapping[str, str] | None = None) -> Path | None:
    """The settings file in use: the one ``TASKS_CORE_CONFIG`` names, else
    ``./tasks-core.toml`` when it exists, else None.

    Raises:
        ConfigurationError: ``TASKS_CORE_CONFIG`` names a path that is not a file.
    """
    environ = os.environ if environ is None else environ
    named = environ.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            why = "is a directory" if path.is_dir() else "does not exist"
            raise ConfigurationError(
                f"{CONFIG_ENV} names {path}, which {why}: fix the path, or unset {CONFIG_ENV} "
                f"to use ./{DEFAULT_FILE} (when present) and the defaults")
        return path
    return DEFAULT_FILE if DEFAULT_FILE.is_file() else None


def read_config_file(path: Path, fields: Collection[str]) -> dict[str, Any]:
    """The settings of a TOML file, as ``{setting: value}``; values are checked later.

    Raises:
        ConfigurationError: the file cannot be read, is not valid TOML (the message has the
            line and column), or has a key that is no setting (the message names the
            closest one).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read settings file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"settings file {path} is not UTF-8 text ({exc.reason} at "
                                 f"byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"settings file {path} is not valid TOML: {exc}") from None
    unknown = [key for key in data if key not in fields]
    if unknown:
        problems = "; ".join(f"{key!r}{_suggest(key.lower(), fields)}"
                             for key in unknown)
        raise ConfigurationError(
            f"unknown setting in {path}: {problems} (see configs/tasks-core.toml for every "
            "setting)")
    return data


def check_environment(fields: Iterable[str], environ: Mapping[str, str] | None = None) -> None:
    """Refuse ``TASKS_CORE_*`` variables that name no setting (names compare
    case-insensitively, as the settings read them).

    Raises:
        ConfigurationError: naming each unknown variable and the closest known name.
    """
    environ = os.environ if environ is None else environ
    fields = list(fields)
    known = {env_name(field) for field in fields}
    unknown = sorted(name for name in environ
                     if name.upper().startswith(ENV_PREFIX)
                     and name.upper() not in known | NOT_SETTINGS)
    if unknown:
        # compared without the common prefix, which would make every name look close
        problems = "; ".join(
            f"{name}{_suggest(name[len(ENV_PREFIX):].lower(), fields, env=True)}"
            for name in unknown)
        raise ConfigurationError(f"unknown environment variable {problems}: fix or unset it")


def setting_sources(
    fields: Iterable[str], file: Path | None, file_data: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Where each setting's value comes from, in the order Settings applies them: the
    environment variable's name as set, else the settings file's path, else ``default``."""
    environ = os.environ if environ is None else environ
    by_upper = {name.upper(): name for name in environ}
    sources = {}
    for field in fields:
        if env_name(field) in by_upper:
            sources[field] = by_upper[env_name(field)]
        elif file is not None and field in file_data:
            sources[field] = str(file)
        else:
            sources[field] = "default"
    return sources


def describe_invalid(errors: Iterable[Mapping[str, Any]], sources: Mapping[str, str]) -> str:
    """One line for pydantic's errors of Settings: each setting, its value, where it came
    from, and what is wrong (``batch_size='many' (from TASKS_CORE_BATCH_SIZE): ...``)."""
    problems = []
    for error in errors:
        loc = error.get("loc") or ("value",)
        name = str(loc[0])
        value = repr(error.get("input"))
        value = value if len(value) <= 80 else value[:77] + "..."
        source = sources.get(name, "default")
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{name}={value} (from {source}): {message}")
    return "invalid setting " + "; ".join(problems)


def _suggest(name: str, fields: Iterable[str], *, env: bool = False) -> str:
    """`` (did you mean 'redis_url'?)`` (or the variable's name), or "" when none is close."""
    close = difflib.get_close_matches(name, list(fields), n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {env_name(close[0])}?)" if env else f" (did you mean {close[0]!r}?)"
