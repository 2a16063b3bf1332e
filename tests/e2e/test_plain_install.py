"""A plain `pip install .` (no extras) into a fresh venv runs a task in process and on a worker.

The dev extras of the project's own venv hide undeclared dependencies (kombu's Redis transport
imports `packaging`, which plain celery does not bring). This test builds the package from a
copy of the checkout into a new venv, as a user adding tasks-core to a project would, and runs
from a folder outside the checkout so nothing is imported from the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

SHIPPED = ("tasks_core", "workers", "beat")

APP = '''
from tasks_core import task


@task
def add(a: int, b: int) -> int:
    return a + b
'''

CHECK = '''
import os
import signal
import subprocess
import sys
from pathlib import Path

import tasks_core
from app_tasks import add

assert "site-packages" in tasks_core.__file__, tasks_core.__file__
print("in process:", add(2, 3))
cli = str(Path(sys.executable).parent / "tasks-core")
worker = subprocess.Popen(
    [cli, "worker", "--pool", os.environ["TASKS_CORE_DEFAULT_POOL"], "--concurrency", "1",
     "--import", "app_tasks", "--loglevel", "WARNING"], start_new_session=True)
try:
    print("on a worker:", add.delay(40, 2).result(timeout=90))
finally:
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(30)
'''


def _copy_checkout(to: Path) -> Path:
    """The files a build reads, without caches, venvs or build leftovers."""
    to.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, to / name)
    for package in SHIPPED:
        shutil.copytree(ROOT / package, to / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return to


@pytest.mark.slow
def test_plain_install_runs_a_task_in_process_and_on_a_worker(
    tc_env: dict[str, Any], tmp_path: Path
) -> None:
    source = _copy_checkout(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "--quiet",
                              "--disable-pip-version-check", str(source)],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout + install.stderr

    app = tmp_path / "app"
    app.mkdir()
    (app / "app_tasks.py").write_text(textwrap.dedent(APP))
    (app / "check.py").write_text(textwrap.dedent(CHECK))
    env = {k: v for k, v in tc_env["env"].items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(app), TASKS_CORE_DATA_DIR=str(tmp_path / "data"),
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    done = subprocess.run([python, "check.py"], cwd=app, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in process: 5" in done.stdout, done.stdout
    assert "on a worker: 42" in done.stdout, done.stdout
