"""What a running worker has loaded: its main process and each prefork child, read from the
live processes (tests/integration/worker_probe.py writes their ``sys.modules`` from Celery's
``worker_ready`` and ``worker_process_init`` signals).

A worker runs Celery's ``worker`` command without Celery's ``celery`` group
(workers/celery_command.py): that group loads every ``celery.commands`` plugin when it is
imported, Flower's among them (tornado, prometheus_client), and each prefork child would
carry them (issue 16, footprint). The unit test of the start-up path
(tests/unit/test_import_footprint.py) stops before the command runs; this one sees it run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import wait_until


def _reports(folder: Path, kind: str) -> list[set[str]]:
    return [set(path.read_text().split()) for path in sorted(folder.glob(f"{kind}-*.txt"))]


def test_a_running_worker_and_its_children_load_no_cli_plugins_tables_or_servers(
        tc_env: dict[str, Any], start_worker: Any, tmp_path: Path) -> None:
    tc_env["env"]["TC_TEST_PROBE_DIR"] = str(tmp_path)
    start_worker(concurrency=2, imports=("tests.integration.worker_probe",))
    wait_until(lambda: len(_reports(tmp_path, "main")) == 1
               and len(_reports(tmp_path, "child")) == 2, 30, 0.1, "the probe's reports")
    for loaded in _reports(tmp_path, "main") + _reports(tmp_path, "child"):
        assert loaded == {"celery.bin.worker"}, loaded
