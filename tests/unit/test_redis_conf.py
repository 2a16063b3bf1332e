"""configs/redis.conf is the documented copy of the packaged tasks_core/store/redis.conf."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "tasks_core" / "store" / "redis.conf"
DOCUMENTED = ROOT / "configs" / "redis.conf"


def _directives(path: Path) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.strip().partition(" ")
            settings.setdefault(name, []).append(value)
    return settings


def test_configs_copy_is_identical_to_packaged_conf() -> None:
    assert DOCUMENTED.read_bytes() == PACKAGED.read_bytes(), (
        "configs/redis.conf differs from tasks_core/store/redis.conf: "
        "edit the packaged file, then cp tasks_core/store/redis.conf configs/redis.conf"
    )


def test_production_settings_are_present() -> None:
    settings = _directives(PACKAGED)
    assert settings["appendonly"] == ["yes"]
    assert settings["appendfsync"] == ["everysec"]
    assert settings["maxmemory-policy"] == ["noeviction"]
    assert settings["protected-mode"] == ["yes"]


def test_embedded_overrides_are_left_to_the_command_line() -> None:
    # `dir` in the file would chdir before the command line's --dir applies.
    assert not {"port", "bind", "dir", "pidfile", "logfile", "daemonize"} & set(
        _directives(PACKAGED)
    )
