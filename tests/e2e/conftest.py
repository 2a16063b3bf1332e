"""Fixtures of the CLI tests: the CLI and this process on the test Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks_core.process_runtime import reset_runtime
from tasks_core.settings import reset_settings


@pytest.fixture
def cli_env(
    tc_env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """This process and the CLI on the test Redis, under this test's key prefix."""
    monkeypatch.setenv("TASKS_CORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TASKS_CORE_CONNECT_RETRIES", "0")
    monkeypatch.chdir(tmp_path)  # no stray ./tasks-core.toml
    reset_settings()
    reset_runtime()
    yield {**tc_env["env"], "TASKS_CORE_DATA_DIR": str(tmp_path / "data"),
           "TASKS_CORE_CONNECT_RETRIES": "0", "COLUMNS": "250", "NO_COLOR": "1",
           "PYTHONUNBUFFERED": "1"}
