"""The per-process runtime: settings, Redis client, run store, reporter, Celery app.

Built lazily on first use and rebuilt after a fork (prefork worker children get their own
reporter thread and connections).
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from functools import cached_property

import redis
from celery import Celery

from tasks_core.settings import Settings, get_settings
from tasks_core.store.connection import connect
from tasks_core.store.reporter import Reporter
from tasks_core.store.runs import RunStore

__all__ = ["Runtime", "get_runtime", "reset_runtime", "set_serving_queues"]

HOST = socket.gethostname()


@dataclass
class Runtime:
    """Everything a process needs to record and send runs."""

    settings: Settings

    @cached_property
    def client(self) -> redis.Redis:
        return connect(self.settings)

    @cached_property
    def store(self) -> RunStore:
        return RunStore(self.client, self.settings)

    @cached_property
    def reporter(self) -> Reporter:
        return Reporter(
            self.store,
            interval_ms=self.settings.batch_interval_ms,
            batch_size=self.settings.batch_size,
            linger_ms=self.settings.batch_linger_ms,
        )

    @cached_property
    def app(self) -> Celery:
        from tasks_core.celery_app import create_app

        return create_app(self.settings)

    @cached_property
    def dispatcher(self):  # type: ignore[no-untyped-def]  # avoids an import cycle at load
        from tasks_core.dispatch import Dispatcher

        return Dispatcher(self.app, self.settings)

    @property
    def serving_queues(self) -> frozenset[str]:
        """Queues this process's worker serves (set by the worker; empty elsewhere)."""
        return _serving_queues

    @property
    def owner(self) -> str:
        """This process as a run owner: ``host:pid``."""
        return f"{HOST}:{os.getpid()}"


_serving_queues: frozenset[str] = frozenset()


def set_serving_queues(queues: frozenset[str]) -> None:
    """Called by the worker before it forks: the queues its processes serve."""
    global _serving_queues
    _serving_queues = queues


_lock = threading.Lock()
_runtime: Runtime | None = None
_runtime_pid = 0


def get_runtime() -> Runtime:
    """The runtime of this process (rebuilt in a forked child)."""
    global _runtime, _runtime_pid
    pid = os.getpid()
    if _runtime is None or _runtime_pid != pid:
        with _lock:
            if _runtime is None or _runtime_pid != pid:
                _runtime = Runtime(get_settings())
                _runtime_pid = pid
    return _runtime


def reset_runtime() -> None:
    """Forget the runtime (after settings change); flushes its reporter first."""
    global _runtime
    with _lock:
        if _runtime is not None and "reporter" in _runtime.__dict__ and _runtime_pid == os.getpid():
            _runtime.reporter.close()
        _runtime = None
