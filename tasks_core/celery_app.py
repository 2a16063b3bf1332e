"""The Celery app, built from settings by one factory (no import-order-sensitive globals).

On a Redis broker, every key kombu writes carries the stack's broker prefix (``<prefix>:q:``,
`Keys.broker_prefix`, kombu's ``global_keyprefix``): queue lists, ``unacked``, bindings and
the pub/sub channels of events and remote control. Two stacks with different
``TASKS_CORE_KEY_PREFIX`` on one Redis therefore never take each other's messages (and
`celery inspect` or Flower of one stack sees only its own workers). The transport is
tasks-core's guarded subclass of kombu's (`tasks_core.store.transport`), which sets aside
a message it cannot decode instead of dying of it. Other brokers (RabbitMQ) are isolated by
giving each stack its own virtual host.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

import celery.contrib.testing.tasks  # noqa: F401  (Celery's `celery.ping`, on every app)
from celery import Celery

from tasks_core.settings import Settings, get_settings
from tasks_core.store.celery_results import BACKEND
from tasks_core.store.connection import redis_url
from tasks_core.store.keys import Keys

__all__ = ["CARRIERS_MODULE", "EXECUTE_CHUNK", "EXECUTE_FLOW", "EXECUTE_RUN", "GUARDED_TRANSPORT",
           "broker_config", "broker_url", "create_app", "get_app", "is_redis_url"]

EXECUTE_RUN = "tasks_core.run"
"""The one Celery task that executes a run; its args are ``[run_id, attempt]``."""

EXECUTE_FLOW = "tasks_core.run_flow"
"""Executes a deployment's flow run; its args are ``[run_id, attempt]``."""

EXECUTE_CHUNK = "tasks_core.run_chunk"
"""Executes several runs from one message (``.map()``); its args are ``[[run_id, ...]]``."""


CARRIERS_MODULE = "workers.carriers"
"""In the app's ``imports`` (Celery's setting: modules a worker imports when it starts): it
registers the carrier tasks above on any Celery worker of this app, such as the in-thread
worker of ``celery.contrib.testing.worker.start_worker(app)`` and the ``celery_worker``
fixture. Named, not imported: the SDK never imports the worker package."""


def broker_url(settings: Settings) -> str:
    """The broker: the configured broker URL, else the Redis URL (embedded if unset)."""
    return settings.broker_url or redis_url(settings)


GUARDED_TRANSPORT = "tasks_core.store.transport:Transport"
"""kombu's Redis transport, guarded: an undecodable message is set aside, not fatal."""

_REDIS_SCHEMES = frozenset({"redis", "rediss"})


def is_redis_url(url: str) -> bool:
    """Whether `url` names a Redis broker kombu's plain Redis transport serves."""
    return urlparse(url).scheme in _REDIS_SCHEMES


def broker_config(settings: Settings) -> dict[str, Any]:
    """Celery settings of the broker: on Redis, the guarded transport and the stack's broker
    prefix (``{"broker_transport": ..., "broker_transport_options": {"global_keyprefix":
    "<prefix>:q:"}}``); nothing on other brokers (a virtual host per stack isolates them)."""
    if not is_redis_url(broker_url(settings)):
        return {}
    return {"broker_transport": GUARDED_TRANSPORT,
            "broker_transport_options": {
                "global_keyprefix": Keys(settings.key_prefix).broker_prefix}}


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured for tasks-core: JSON only, late acks, events for Flower.

    The worker's carrier tasks come with any Celery worker of the app (`CARRIERS_MODULE`),
    Celery's own ``celery.ping`` (``celery.contrib.testing.tasks``, registered on every app
    once imported) keeps its result, and Celery's result backend (for plain Celery tasks
    such as that ping: `tasks_core.store.celery_results`) lives under the stack's prefix,
    so Celery's own test worker (``start_worker(app)``, the ``celery_worker`` fixture) runs
    tasks-core runs without further set-up.
    """
    settings = settings or get_settings()
    app = Celery("tasks_core", broker=broker_url(settings), set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],  # anything else (pickle) is refused, never executed
        result_serializer="json",
        result_accept_content=["json"],
        event_serializer="json",
        task_ignore_result=True,  # results live in the run ledger, not Celery's backend
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_default_queue=settings.default_pool,
        task_create_missing_queues=True,
        worker_send_task_events=settings.task_events,
        task_send_sent_event=False,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts_level="INFO",  # a print in a task is not a warning
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        enable_utc=True,
        imports=(CARRIERS_MODULE,),
        result_backend=BACKEND,
        task_annotations={"celery.ping": {"ignore_result": False}},  # start_worker .get()s it
        **broker_config(settings),
    )
    return app


@lru_cache(maxsize=1)
def get_app() -> Celery:
    """The process-wide app for the current settings."""
    return create_app(get_settings())
