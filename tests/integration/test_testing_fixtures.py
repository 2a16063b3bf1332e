"""The pytest plugin `tasks_core.testing` and Celery's own `celery_worker` fixture, used as a
user's suite uses them: a small suite written to a folder and run by pytest in a subprocess
(its own throwaway redis-server, its worker a thread of that pytest process).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import ROOT

CONFTEST = """
import pytest

from tasks_core.celery_app import create_app

pytest_plugins = ["tasks_core.testing", "celery.contrib.pytest"]


@pytest.fixture
def celery_app(tasks_core_env):
    return create_app()  # the tasks-core app for this test's settings
"""

SUITE = '''
import threading

from tasks_core import flow, task
from tasks_core.process_runtime import get_runtime

HISTORY = ["Pending", "Running", "Completed"]


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def thread_name() -> str:
    return threading.current_thread().name


@flow
def total(n: int) -> int:
    return sum(f.result() for f in [add.submit(i, i) for i in range(n)])


def test_delay_runs_on_the_worker_thread(tasks_core_worker, tasks_core_env):
    future = add.delay(2, 3)
    assert future.result(timeout=20) == 5
    record = future.record()
    assert [h.name.value for h in record.history] == HISTORY
    assert record.queue == tasks_core_env.pool
    assert thread_name.delay().result(timeout=20) != threading.current_thread().name


def test_each_test_has_its_own_prefix(tasks_core_env):
    assert get_runtime().settings.key_prefix == tasks_core_env.key_prefix
    assert get_runtime().settings.redis_url == tasks_core_env.redis_url


def test_celerys_celery_worker_fixture_runs_tasks_core_runs(celery_worker, tasks_core_env):
    assert "celery.ping" in celery_worker.app.tasks
    future = add.delay(4, 5)
    assert future.result(timeout=20) == 9
    assert [h.name.value for h in future.record().history] == HISTORY


def test_flow_in_the_test_with_tasks_on_the_worker(tasks_core_worker):
    assert total(4) == 12
'''


def _run_suite(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (tmp_path / "test_user_suite.py").write_text(textwrap.dedent(SUITE))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKS_CORE_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W",
         "ignore::DeprecationWarning", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_plugin_fixtures_and_celery_worker_fixture_in_a_users_suite(tmp_path: Path) -> None:
    done = _run_suite(tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "4 passed" in done.stdout, done.stdout[-2000:]
