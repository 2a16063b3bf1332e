"""Task workers as Prefect spells them: a script calling ``serve(*tasks)`` or
``task.serve()`` runs a real worker for its tasks; ``.delay()`` from this process reaches
it; SIGINT (Ctrl-C) stops it and its worker cleanly."""

from __future__ import annotations

import importlib
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from tasks_core import task
from tasks_core.errors import ValidationError
from tasks_core.task_worker import serve
from tests.helpers import wait_until

SCRIPT = """
    import sys

    from tasks_core import task
    from tasks_core.task_worker import serve


    @task
    def add(x: int, y: int) -> int:
        return x + y


    @task(queue="{queue}-io")
    def shout(text: str) -> str:
        return text.upper() + "!"


    if __name__ == "__main__":
        if sys.argv[1] == "serve":
            serve(add, shout, limit=2)
        else:
            add.serve()
"""


def _script(tmp_path: Path, queue: str) -> tuple[Path, Any]:
    """A served script (a unique module name) and the module as this process imports it."""
    name = f"served_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(SCRIPT).replace("{queue}", queue))
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))
    return path, module


def _start(path: Path, how: str, tc_env: dict[str, Any]) -> subprocess.Popen[str]:
    env = {k: v for k, v in tc_env["env"].items() if k != "PYTHONPATH"}  # as a user runs it
    env["PYTHONPATH"] = tc_env["env"]["PYTHONPATH"]  # but with this checkout's tasks_core
    return subprocess.Popen([sys.executable, str(path), how], cwd=path.parent.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _nodes(tc_env: dict[str, Any]) -> list[str]:
    return list(tc_env["client"].scan_iter(f"{tc_env['prefix']}:node:*"))


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=40)
    return out


def test_serve_runs_the_tasks_sent_from_another_process(tc_env: dict[str, Any],
                                                        tmp_path: Path) -> None:
    path, module = _script(tmp_path, tc_env["queue"])
    proc = _start(path, "serve", tc_env)
    try:
        assert module.add.delay(1, 2).result(timeout=60) == 3  # the default pool's queue
        assert module.shout.delay("hi").result(timeout=30) == "HI!"  # the task's own queue
        assert len(_nodes(tc_env)) == 1
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out
    assert "Serving task(s) add, shout; Ctrl-C stops." in out and "Stopped serving." in out
    wait_until(lambda: not _nodes(tc_env), 10, 0.1, "the worker's node to be released")


def test_task_serve_is_the_same_for_one_task(tc_env: dict[str, Any], tmp_path: Path) -> None:
    path, module = _script(tmp_path, tc_env["queue"])
    proc = _start(path, "task", tc_env)
    try:
        future = module.add.delay(20, 22)
        assert future.result(timeout=60) == 42
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out
    assert "Serving task(s) add; Ctrl-C stops." in out


@task
def _local() -> int:
    return 1


@pytest.mark.parametrize(("args", "kwargs", "fragment"), [
    ((), {}, "needs at least one task"),
    ((print,), {}, "takes @task functions"),
    ((_local,), {"limit": 0}, "must be an integer >= 1 or None"),
])
def test_bad_arguments_are_refused_before_anything_starts(args: tuple[Any, ...],
                                                          kwargs: dict[str, Any],
                                                          fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        serve(*args, **kwargs)
