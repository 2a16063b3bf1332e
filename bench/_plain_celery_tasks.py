"""System A of bench/tasks_alone.py: a plain Celery app with a no-op task.

Broker and result backend are the bench Redis (``BENCH_REDIS_URL``, set by the bench before
this module is imported, in the bench process and in the worker it starts). Everything else
is Celery's default except JSON-only serialization and the queue name, and, with
``BENCH_PLAIN_ACKS_LATE=1`` (``--plain-acks-late``), acks after the task as tasks-core does.

Worker: ``celery -A bench._plain_celery_tasks worker -c 2 -P prefork -Q bench_plain``.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

QUEUE = "bench_plain"
TASK_NAME = "bench.plain_noop"
REDIS_URL = (os.environ.get("BENCH_REDIS_URL") or os.environ.get("TASKS_CORE_REDIS_URL")
             or "redis://127.0.0.1:6379/0")

app = Celery("bench_plain", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    result_accept_content=["json"],
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_acks_late=os.environ.get("BENCH_PLAIN_ACKS_LATE") == "1",
    task_reject_on_worker_lost=os.environ.get("BENCH_PLAIN_ACKS_LATE") == "1",
)


@app.task(name=TASK_NAME)
def noop(x: Any = None) -> Any:
    """Do nothing; return the argument (so round trips can be checked)."""
    return x
