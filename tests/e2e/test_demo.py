"""`make demo`: it runs every section and exits 0, each command it prints runs as printed,
and it runs again on the same Redis.

The demo runs under its own key prefix, so a hint that left the prefix out (or assumed
`tasks-core` on PATH) would list nothing or fail; here each `$ ` line is run through a shell
from the folder the demo ran in, with neither the prefix nor the venv in the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT


@pytest.mark.slow
def test_demo_runs_and_its_printed_hints_work_as_printed(
    tc_env: dict[str, Any], tmp_path: Path
) -> None:
    venv_bin = os.path.dirname(sys.executable)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and os.path.realpath(p) != os.path.realpath(venv_bin))
    env = {k: v for k, v in tc_env["env"].items() if k != "TASKS_CORE_DEFAULT_POOL"}
    env.update(TASKS_CORE_DATA_DIR=str(tmp_path / "data"), PATH=path, PYTHONUNBUFFERED="1")
    demo = subprocess.run([sys.executable, "-m", "tasks_core.demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    for section in ("Tasks alone", "Retries", "nested flows", "Deployments", "schedule",
                    "Events", "started by automation", "notification received",
                    "A webhook pauses a work pool", "-> 202", "work pool 'reports' is paused"):
        assert section in demo.stdout, section

    hints = [line[2:] for line in demo.stdout.splitlines() if line.startswith("$ ")]
    assert len(hints) >= 7, demo.stdout[-2000:]
    assert all(f"TASKS_CORE_KEY_PREFIX={tc_env['prefix']} " in h for h in hints), hints
    shell_env = {k: v for k, v in env.items() if k != "TASKS_CORE_KEY_PREFIX"}
    shell_env["COLUMNS"] = "200"
    for hint in hints:
        done = subprocess.run(["bash", "-c", hint], cwd=ROOT, env=shell_env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{hint}\n{done.stdout}\n{done.stderr}"
        command = hint.split(" ", 2)[2]  # after the prefix and the path of tasks-core
        expected = {"task-run ls": "extract", "flow-run ls": "nightly",
                    "deployment ls": "orchestrate", "work-pool ls": "reports",
                    "task-run inspect": "divide", "flow-run inspect": "nightly",
                    "flow-run logs": "loaded", "events ls": "demo.order.shipped",
                    "automation ls": "demo: etl on shipped orders",
                    "webhook ls": "demo-pager-"}
        word = next(v for k, v in expected.items() if command.startswith(k))
        assert word in done.stdout, f"{hint}\n{done.stdout}"

    # a second `make demo` on the same Redis and key prefix (the embedded Redis keeps its
    # data) runs too: it failed on the events section's automation, whose name was taken
    again = subprocess.run([sys.executable, "-m", "tasks_core.demo"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "notification received" in again.stdout
