"""beat_schedule entries (tasks_core/periodic/entries.py) and finding their task by its
Celery name (tasks_core/periodic/runner.py): pure, no Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.schedules import crontab, schedule

from tasks_core import task
from tasks_core.errors import TaskNotFound
from tasks_core.periodic.entries import parse_entries, schedule_of
from tasks_core.periodic.runner import find_task


@task
def tick() -> int:
    return 1


@task(name="proj.renamed")
def renamed() -> int:
    return 2


@pytest.mark.parametrize(("value", "expected"), [
    (30, {"interval": 30.0}),
    (0.5, {"interval": 0.5}),
    (timedelta(minutes=2), {"interval": 120.0}),
    (schedule(run_every=timedelta(seconds=45)), {"interval": 45.0}),
    (crontab(minute=0, hour="*/2"), {"cron": "0 */2 * * *"}),
    ("*/5 * * * *", {"cron": "*/5 * * * *"}),
])
def test_schedule_forms(value: object, expected: dict[str, object]) -> None:
    assert schedule_of(value) == expected


def test_entries_keep_args_kwargs_queue_and_source() -> None:
    [entry] = parse_entries({"e": {"task": "proj.add", "schedule": 5, "args": (1, 2),
                                   "kwargs": {"z": 3}, "options": {"queue": "io"}}},
                            "app.conf")
    assert (entry.name, entry.task, entry.args, entry.kwargs, entry.queue, entry.source) == \
        ("e", "proj.add", [1, 2], {"z": 3}, "io", "app.conf")


def test_no_schedule_is_no_entries() -> None:
    assert parse_entries(None, "settings") == [] and parse_entries({}, "app.conf") == []


def test_find_task_by_name_key_and_celery_default_name() -> None:
    module = __name__
    assert find_task("proj.renamed") is renamed
    assert find_task(f"{module}:tick") is tick
    assert find_task(f"{module}.tick") is tick


def test_unknown_task_names_the_fix() -> None:
    with pytest.raises(TaskNotFound, match="--import"):
        find_task("nowhere.module.task")
