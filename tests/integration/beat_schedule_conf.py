"""A module setting a Celery app's conf.beat_schedule, as a Celery project's celery.py
does (import line ported); `tasks-core beat --import tests.integration.beat_schedule_conf`
reads it."""

from datetime import timedelta

from tasks_core.celery import Celery

app = Celery("beat_schedule_conf")
app.conf.beat_schedule = {
    "add-from-conf": {
        "task": "tests.integration.sample_tasks.add",
        "schedule": timedelta(seconds=1),
        "args": [10],
        "kwargs": {"y": 1},
    },
}
