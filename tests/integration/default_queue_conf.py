"""A Celery project module that sets task_default_queue on its app (the worker imports it,
started without --pool); the queue comes from DQ_QUEUE."""

from __future__ import annotations

import os

from tasks_core.celery import Celery

app = Celery("default_queue_conf")
app.conf.task_default_queue = os.environ["DQ_QUEUE"]


@app.task
def shout(text: str) -> str:
    return text.upper()
