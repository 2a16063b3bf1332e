"""Flower on the tasks-core app shows runs under their task names and run ids."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from typing import Any

from tests.helpers import ROOT, free_port, wait_until
from tests.integration import sample_tasks as t


def _tasks(port: int) -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/tasks", headers={
        "Authorization": "Basic " + base64.b64encode(b"tc:secret").decode()})
    try:
        with urllib.request.urlopen(request, timeout=2) as reply:
            data: dict[str, Any] = json.loads(reply.read())
            return data
    except OSError:
        return {}


def test_flower_turns_events_on_and_shows_runs(tc_env: dict[str, Any],
                                               start_worker: Any) -> None:
    start_worker(concurrency=1)  # task events are off by default
    port = free_port()
    flower = subprocess.Popen(
        [sys.executable, "-m", "tasks_core.cli.main", "flower", "--port", str(port),
         "--basic-auth", "tc:secret"],
        env=tc_env["env"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _port_open(port), 30,
                   message="flower to listen")

        def shown() -> str | None:
            future = t.add.delay(20, 22)
            future.result(timeout=20)
            return future.id if future.id in _tasks(port) else None

        run_id = wait_until(shown, 45, 0.5, "flower to show a run")
        task = wait_until(lambda: _tasks(port)[run_id]["state"] == "SUCCESS"
                          and _tasks(port)[run_id], 20, 0.2, "flower to see it succeed")
        assert task["name"] == "add"
    finally:
        flower.terminate()
        flower.wait(15)


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
