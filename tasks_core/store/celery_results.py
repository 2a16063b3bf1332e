"""Celery's result backend on the tasks-core app: for plain Celery tasks only.

tasks-core's runs keep their results in the ledger (`p:result:<id>`) and the carrier tasks
ignore results. A few plain Celery tasks on the app do need Celery's backend: above all
``celery.ping``, which ``celery.contrib.testing.worker.start_worker(app)`` and the
``celery_worker`` pytest fixture send and ``.get()`` before a test starts (Celery:
testing, "celery_worker - Embed live worker"). Without a backend that ``.get()`` raises
"No result backend is configured". This is Celery's key-value backend
(``celery.backends.base.KeyValueStoreBackend``) over the stack's own Redis, every key under
the stack's prefix (`Keys.celery_result`), expiring after Celery's ``result_expires``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery.backends.base import KeyValueStoreBackend

from tasks_core.settings import get_settings
from tasks_core.store.connection import connect
from tasks_core.store.keys import Keys

__all__ = ["BACKEND", "ResultBackend"]

BACKEND = "tasks_core.store.celery_results:ResultBackend"
"""The app's ``result_backend`` setting naming this class (Celery's ``module:Class`` form)."""


def _text(key: str | bytes) -> str:
    return key.decode() if isinstance(key, bytes) else key


class ResultBackend(KeyValueStoreBackend):  # type: ignore[misc]
    """Celery's key-value result backend on the runtime's Redis client and key prefix."""

    def __init__(self, app: Any, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(app=app, url=url, **kwargs)
        self._connection: Any = None

    @property
    def _client(self) -> Any:
        """The Redis client, connected on first use (building the app, or sending a task,
        must not connect: only a plain Celery task's result is read or written here)."""
        if self._connection is None:
            self._connection = connect(get_settings())
        return self._connection

    @property
    def _keys(self) -> Keys:
        return Keys(get_settings().key_prefix)

    def _key(self, key: str | bytes) -> str:
        return self._keys.celery_result(_text(key))

    def get(self, key: str | bytes) -> Any:
        return self._client.get(self._key(key))

    def mget(self, keys: Sequence[str | bytes]) -> list[Any]:
        return list(self._client.mget([self._key(k) for k in keys]))

    def set(self, key: str | bytes, value: Any) -> None:
        ttl = int(self.expires) if self.expires else None
        self._client.set(self._key(key), value, ex=ttl or None)

    def delete(self, key: str | bytes) -> None:
        self._client.delete(self._key(key))

    def incr(self, key: str | bytes) -> int:
        return int(self._client.incr(self._key(key)))

    def expire(self, key: str | bytes, value: float) -> None:
        self._client.expire(self._key(key), int(value))
