"""pytest fixtures for code that uses tasks-core: a real Redis and a real worker in a thread.

Enable them in the test suite's top-level ``conftest.py`` (Celery's own plugin is enabled
the same way, ``pytest_plugins = ("celery.contrib.pytest",)``)::

    pytest_plugins = ["tasks_core.testing"]

and use them::

    def test_add(tasks_core_worker):
        assert add.delay(2, 3).result(timeout=10) == 5

Fixtures:

- ``tasks_core_redis`` (session): the URL of a throwaway ``redis-server`` started for the
  session on a free local port (`tasks_core.store.throwaway`), stopped at the end.
- ``tasks_core_env`` (per test): points tasks-core at that Redis with a key prefix and a
  default work pool of its own (``TASKS_CORE_REDIS_URL``, ``TASKS_CORE_KEY_PREFIX``,
  ``TASKS_CORE_DEFAULT_POOL``), so tests never see each other's runs; a `TestStack`.
- ``tasks_core_worker`` (per test): a real worker on the test's pool, in a thread of the
  test process: Celery's own ``celery.contrib.testing.worker.start_worker`` on the
  tasks-core app (threads pool, 4 threads), executing runs with the same carrier tasks,
  consumer and engine as ``tasks-core worker`` (`workers.carriers`). Tasks defined in the
  test module run without any ``--import``. Yields Celery's WorkController.

Celery's ``celery_worker`` fixture works too, given the tasks-core app as ``celery_app``
(the carrier tasks and ``celery.ping`` come with the app; see `tasks_core.celery_app`).

Not registered through a ``pytest11`` entry point on purpose: as with Celery's plugin, a
suite opts in, and listing it in ``pytest_plugins`` as well could not register it twice.
Docker-based pytest-celery is not used: it runs workers in containers built from an image,
so a test's own tasks and Redis prefix would have to be packaged into it; tasks-core needs
only a redis-server binary.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

try:
    import pytest
except ImportError as exc:  # a pytest plugin: only pytest loads it
    raise ImportError("tasks_core.testing is a pytest plugin: pip install 'tasks-core[testing]' "
                      "(or pytest)") from exc

__all__ = ["TestStack", "tasks_core_env", "tasks_core_redis", "tasks_core_worker"]


@dataclass(frozen=True, slots=True)
class TestStack:
    """What a test's tasks-core points at."""

    __test__ = False  # not a test class, whatever pytest's name rules say

    redis_url: str
    """``redis://127.0.0.1:<port>/0``"""
    key_prefix: str
    """Every Redis key of this test starts with ``<key_prefix>:``."""
    pool: str
    """The default work pool (Celery queue) of this test's runs."""


def _reset() -> None:
    from tasks_core.process_runtime import reset_runtime
    from tasks_core.settings import reset_settings

    reset_runtime()
    reset_settings()


@pytest.fixture(scope="session")
def tasks_core_redis() -> Iterator[str]:
    """The URL of a redis-server started for this session (ConfigurationError when no
    redis-server binary is found: install one, or ``tasks-core[embedded]``)."""
    from tasks_core.store.throwaway import ThrowawayRedis

    server = ThrowawayRedis()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def tasks_core_env(tasks_core_redis: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestStack]:
    """tasks-core on the session's Redis, with this test's own key prefix and pool."""
    suffix = uuid.uuid4().hex[:10]
    stack = TestStack(redis_url=tasks_core_redis, key_prefix=f"test{suffix}",
                      pool=f"test-{suffix}")
    monkeypatch.setenv("TASKS_CORE_REDIS_URL", stack.redis_url)
    monkeypatch.setenv("TASKS_CORE_KEY_PREFIX", stack.key_prefix)
    monkeypatch.setenv("TASKS_CORE_DEFAULT_POOL", stack.pool)
    _reset()
    try:
        yield stack
    finally:
        _reset()


@pytest.fixture
def tasks_core_worker(tasks_core_env: TestStack) -> Iterator[Any]:
    """A real worker in a thread, consuming the test's pool until the test ends."""
    from celery.contrib.testing.worker import start_worker

    from tasks_core.process_runtime import get_runtime

    app = get_runtime().app
    with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False,
                      queues=[tasks_core_env.pool], loglevel="WARNING") as worker:
        yield worker
