"""Celery's task_routes and task_default_queue decide where new runs go: from the settings
and from the Celery app's conf, on a real Redis and real workers (issue 14, item 7); and
`celery -A tasks_core` from a folder with no module of the user's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tasks_core
from tasks_core.celery import Celery
from tasks_core.errors import ConfigurationError
from tasks_core.process_runtime import reset_runtime
from tasks_core.settings import reset_settings
from tests.helpers import ROOT, wait_until
from tests.integration import calling_tasks as c

IMPORTS = ("tests.integration.calling_tasks",)


def _routes_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TASKS_CORE_TASK_ROUTES", value)
    reset_settings()
    reset_runtime()


def test_routes_from_the_settings_send_runs_to_their_queue(
        tc_env: dict[str, Any], start_worker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    routed = f"{tc_env['queue']}-io"
    _routes_setting(monkeypatch, f'{{"proj.*": "{routed}", "ec*": {{"queue": "{routed}", '
                                 '"priority": 6}}')
    start_worker(pool=routed, imports=IMPORTS)  # a worker on the routed queue only
    product = c.mul.delay(6, 7)
    echoed = c.echo.apply_async(("hi",))
    assert product.get(timeout=20) == 42 and echoed.get(timeout=20) == "hi"
    assert product.record().queue == routed and echoed.record().queue == routed
    assert echoed.record().priority == 6
    by_name = tasks_core.send_task("proj.anything", (1,))  # routed by name, unknown task
    assert by_name.record().queue == routed
    # the call's queue and the task's own queue come before the routes (Celery's order)
    assert c.mul.apply_async((1, 1), queue="explicit").record().queue == "explicit"
    assert c.pinned.delay().record().queue == "own-queue"


def test_routes_and_default_queue_from_the_celery_apps_conf(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    app = Celery("routing_conf")
    routed = f"{tc_env['queue']}-conf"

    def by_size(name: str, args: Any, kwargs: Any, options: Any, task: Any = None,
                **kw: Any) -> Any:
        return {"queue": routed} if name == "echo" and args and len(args[0]) > 3 else None

    app.conf.task_routes = [by_size, {"proj.mul": {"queue": routed, "priority": 3}}]
    app.conf.task_default_queue = f"{tc_env['queue']}-default"
    start_worker(pool=routed, imports=IMPORTS)
    long_echo = c.echo.delay("long text")
    assert long_echo.get(timeout=20) == "long text"
    assert long_echo.record().queue == routed
    assert c.echo.delay("ab").record().queue == f"{tc_env['queue']}-default"
    product = c.mul.delay(2, 3)
    assert product.get(timeout=20) == 6
    assert (product.record().queue, product.record().priority) == (routed, 3)


def test_a_bad_routes_setting_is_one_clear_error(tc_env: dict[str, Any],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _routes_setting(monkeypatch, '["no.such.module.router"]')
    with pytest.raises(ConfigurationError, match=r"task_routes router 'no\.such\.module"):
        c.mul.delay(1, 2)


def test_celery_dash_a_tasks_core_from_a_folder_without_user_modules(
        tc_env: dict[str, Any], start_worker: Any, tmp_path: Path) -> None:
    start_worker(concurrency=1)
    env = {**tc_env["env"], "PYTHONPATH": str(ROOT)}  # the package, as an install gives it
    result = subprocess.run([sys.executable, "-m", "celery", "-A", "tasks_core", "inspect",
                             "ping"], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pong" in result.stdout
    assert list(tmp_path.iterdir()) == []  # nothing of the user's was needed (or written)


def test_a_worker_without_pool_serves_the_apps_task_default_queue(
        tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    queue = f"{tc_env['queue']}-dq"
    monkeypatch.setenv("DQ_QUEUE", queue)
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tasks_core.cli.main", "worker", "--concurrency", "1",
             "--import", "tests.integration.default_queue_conf"],
            env={**tc_env["env"], "DQ_QUEUE": queue}, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "ready" in log_path.read_text() or proc.poll() is not None, 60,
                   0.2, "the worker to be ready")
        assert proc.poll() is None, log_path.read_text()
        from tests.integration import default_queue_conf

        future = default_queue_conf.shout.delay("hi")
        assert future.get(timeout=20) == "HI"
        assert future.record().queue == queue
        assert f".> {queue} " in log_path.read_text()  # Celery's banner: the queue it serves
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
