"""The Celery app, built from settings by one factory (no import-order-sensitive globals)."""

from __future__ import annotations

from functools import lru_cache

from celery import Celery

from tasks_core.settings import Settings, get_settings
from tasks_core.store.connection import redis_url

__all__ = ["EXECUTE_CHUNK", "EXECUTE_FLOW", "EXECUTE_RUN", "broker_url", "create_app", "get_app"]

EXECUTE_RUN = "tasks_core.run"
"""The one Celery task that executes a run; its args are ``[run_id, attempt]``."""

EXECUTE_FLOW = "tasks_core.run_flow"
"""Executes a deployment's flow run; its args are ``[run_id, attempt]``."""

EXECUTE_CHUNK = "tasks_core.run_chunk"
"""Executes several runs from one message (``.map()``); its args are ``[[run_id, ...]]``."""


def broker_url(settings: Settings) -> str:
    """The broker: the configured broker URL, else the Redis URL (embedded if unset)."""
    return settings.broker_url or redis_url(settings)


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured for tasks-core: JSON only, late acks, events for Flower."""
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
    )
    return app


@lru_cache(maxsize=1)
def get_app() -> Celery:
    """The process-wide app for the current settings."""
    return create_app(get_settings())
