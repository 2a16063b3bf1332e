"""Whether Flower is up, for the navigation's "Flower" link: a TCP connect to the host and
port of ``settings.flower_url`` (at most `CONNECT_TIMEOUT` seconds), remembered for
`CACHE_SECONDS` so pages stay fast. Time and the connect are injectable for tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = ["CACHE_SECONDS", "CONNECT_TIMEOUT", "FlowerProbe", "can_connect", "probe"]

CACHE_SECONDS = 10.0
"""How long one answer is kept."""

CONNECT_TIMEOUT = 0.05
"""Longest one connect waits (seconds)."""


def can_connect(host: str, port: int, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Whether a TCP connection to `host`:`port` opens within `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class FlowerProbe:
    """Answers "the URL to link to, or None" for a Flower URL, cached per URL.

    Args:
        connect: ``(host, port) -> bool`` (default `can_connect`).
        clock: monotonic seconds (default `time.monotonic`).
    """

    def __init__(self, connect: Callable[[str, int], bool] = can_connect,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._connect = connect
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, bool]] = {}

    def link(self, url: str) -> str | None:
        """`url` when Flower answers there (a connect, at most every `CACHE_SECONDS`);
        None when it does not, or `url` is empty or has no host."""
        parts = urlsplit(url)
        if not url or not parts.hostname:
            return None
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # a port out of range
            return None
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
        if cached is None or now - cached[0] >= CACHE_SECONDS:
            cached = (now, self._connect(parts.hostname, port))
            with self._lock:
                self._cache[url] = cached
        return url if cached[1] else None


probe = FlowerProbe()
"""The server's probe (one per process)."""
