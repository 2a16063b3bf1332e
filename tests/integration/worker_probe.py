"""Imported by a test's worker (``--import tests.integration.worker_probe``): when the worker
is ready (its main process) and when each pool child starts, writes which of the watched
modules are in ``sys.modules`` to ``$TC_TEST_PROBE_DIR/<main|child>-<pid>.txt``, one name
per line (tests/integration/test_worker_start_up.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from celery import signals

WATCHED = ("flower", "tornado", "prometheus_client", "celery.bin.celery", "click_plugins",
           "rich", "tasks_core.cli.output", "tasks_core.deployments", "tasks_core.automations",
           "tasks_core.api", "tasks_core.dashboard", "jinja2", "fastapi", "apprise",
           "celery.bin.worker")
"""The last one is loaded by every worker: it shows the probe reads the live process."""


def _write(kind: str) -> None:
    folder = Path(os.environ["TC_TEST_PROBE_DIR"])
    loaded = [name for name in WATCHED if name in sys.modules]
    (folder / f"{kind}-{os.getpid()}.txt").write_text("\n".join(loaded) + "\n")


def _main_ready(**_: Any) -> None:
    _write("main")


def _child_started(**_: Any) -> None:
    _write("child")


signals.worker_ready.connect(_main_ready, weak=False)
signals.worker_process_init.connect(_child_started, weak=False)
