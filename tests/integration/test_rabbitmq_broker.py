"""RabbitMQ as the broker: records and results in Redis, messages through AMQP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tasks_core import StateName, wait_all
from tasks_core.process_runtime import get_runtime, reset_runtime
from tasks_core.settings import reset_settings
from tests.helpers import free_port, wait_until
from tests.integration import sample_tasks as t

# The Debian wrapper on PATH switches to the rabbitmq user and drops our environment.
SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
pytestmark = pytest.mark.skipif(
    not os.path.exists(SERVER) or os.environ.get("TASKS_CORE_SKIP_RABBITMQ") == "1",
    reason="rabbitmq-server not installed (make test installs it)")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def amqp_url() -> Iterator[str]:
    port, dist = free_port(), free_port()
    base = tempfile.mkdtemp(prefix="tc-rabbit-")
    env = {**os.environ,
           "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
           "RABBITMQ_DIST_PORT": str(dist), "RABBITMQ_NODENAME": f"tc{port}@localhost",
           "RABBITMQ_MNESIA_BASE": base, "RABBITMQ_LOG_BASE": base,
           "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(base, "plugins"),
           "HOME": base}
    proc = subprocess.Popen([SERVER], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: _listening(port), 90, 0.5, "rabbitmq-server to listen")
        yield f"amqp://guest:guest@127.0.0.1:{port}//"
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
        shutil.rmtree(base, ignore_errors=True)


def test_runs_flow_through_rabbitmq(amqp_url: str, tc_env: dict[str, Any], start_worker: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_BROKER_URL", amqp_url)
    tc_env["env"]["TASKS_CORE_BROKER_URL"] = amqp_url
    reset_settings()
    reset_runtime()
    assert get_runtime().dispatcher.direct is False
    start_worker(concurrency=2)
    futures = [t.add.delay(i, 1) for i in range(50)]
    assert set(wait_all(futures, timeout=60)) == {StateName.COMPLETED}
    assert futures[9].result() == 10
    retried = t.flaky.delay("rabbit", 2)
    assert retried.result(timeout=30) == 2
    assert get_runtime().queues.depth(tc_env["queue"]) == 0  # nothing went through Redis lists
    assert tc_env["client"].llen(tc_env["queue"]) == 0
