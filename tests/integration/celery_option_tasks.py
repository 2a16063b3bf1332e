"""Tasks with Celery's decorator options, sent to real workers by
test_celery_task_options.py (and called directly there)."""

from __future__ import annotations

import json
import time
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from tasks_core import task
from tasks_core.process_runtime import get_runtime
from tasks_core.task import Task


def _key(name: str) -> str:
    return f"{get_runtime().settings.key_prefix}:test-celery:{name}"


def count(name: str) -> int:
    """Add one to the counter `name` (in the test's Redis); the new value."""
    return int(get_runtime().client.incr(_key(name)))


def note(name: str, value: Any) -> None:
    """Append `value` (JSON) to the list `name`."""
    get_runtime().client.rpush(_key(name), json.dumps(value))


def notes(name: str) -> list[Any]:
    """The list `name`, oldest first."""
    return [json.loads(v) for v in get_runtime().client.lrange(_key(name), 0, -1)]


@task(bind=True)
def who_am_i(self: Any, x: int, *, label: str = "") -> dict[str, Any]:
    r = self.request
    return {"name": self.name, "id": r.id, "retries": r.retries, "args": list(r.args),
            "kwargs": r.kwargs, "delivery_info": r.delivery_info, "parent_id": r.parent_id,
            "root_id": r.root_id, "hostname": r.hostname, "is_eager": r.is_eager,
            "called_directly": r.called_directly, "x": x, "label": label}


@task(bind=True, default_retry_delay=0.05)
def retry_twice(self: Any, name: str) -> int:
    if count(name) < 3:
        raise self.retry(exc=ValueError("flaky"))
    return int(self.request.retries)


@task(bind=True)
def retry_until_max(self: Any) -> None:
    raise self.retry(exc=KeyError("gone"), countdown=0.05, max_retries=2)


@task(bind=True, max_retries=1)
def retry_without_exc(self: Any) -> None:
    raise self.retry(countdown=0.05)


@task(bind=True)
def with_progress(self: Any, name: str) -> str:
    self.update_state(state="PROGRESS", meta={"current": 1, "total": 2})
    deadline = time.monotonic() + 10
    while not get_runtime().client.exists(_key(name)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return "done"


@task(autoretry_for=(ConnectionError,), max_retries=2, default_retry_delay=0.05)
def flaky_connection(name: str) -> int:
    attempt = count(name)
    if attempt < 3:
        raise ConnectionError(f"down (attempt {attempt})")
    return attempt


@task(autoretry_for=(ConnectionError,), default_retry_delay=0.05)
def wrong_error() -> None:
    raise KeyError("not a connection error")


@task(autoretry_for=(OSError,), dont_autoretry_for=(FileNotFoundError,),
      default_retry_delay=0.05)
def missing_file() -> None:
    raise FileNotFoundError("nope")


@task(autoretry_for=(ValueError,), retry_backoff=0.1, retry_jitter=False, max_retries=2)
def backing_off() -> None:
    raise ValueError("always")


def _not_key_errors(task: Any, task_run: Any, state: Any) -> bool:
    return not isinstance(state.exception, KeyError)


@task(retries=3, retry_condition_fn=_not_key_errors)
def conditional(kind: str) -> None:
    raise KeyError(kind) if kind == "key" else ValueError(kind)


@task(soft_time_limit=0.5)
def cleans_up() -> str:
    try:
        time.sleep(5)
    except SoftTimeLimitExceeded:
        return "cleaned up"
    return "not interrupted"


@task(soft_time_limit=0.5)
def does_not_clean_up() -> str:
    time.sleep(5)
    return "not interrupted"


@task
def sleeper(seconds: float) -> str:
    try:
        time.sleep(seconds)
    except SoftTimeLimitExceeded:
        return "cleaned up"
    return "slept"


@task(time_limit=1)
def killed() -> str:
    time.sleep(30)
    return "not killed"


@task(ignore_result=True)
def unrecorded(x: int) -> int:
    return x * 2


class Handled(Task[Any, Any]):
    """Celery's handlers, each noting its call."""

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        note("handlers", ["on_success", retval, list(args)])

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                   einfo: Any) -> None:
        note("handlers", ["on_failure", type(exc).__name__, list(args)])

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                 einfo: Any) -> None:
        note("handlers", ["on_retry", type(exc).__name__, list(args)])

    def after_return(self, status: str, retval: Any, task_id: str, args: Any, kwargs: Any,
                     einfo: Any) -> None:
        note("handlers", ["after_return", status])


@task(base=Handled, autoretry_for=(ValueError,), max_retries=1, default_retry_delay=0.05)
def handled(name: str, fail: bool) -> str:
    if fail or count(name) < 2:
        raise ValueError("handled failure")
    return "ok"


@task(bind=True)
def progress_here(self: Any) -> list[Any]:
    self.update_state(state="PROGRESS", meta={"step": 1})
    record = get_runtime().store.get(self.request.id)
    return [record.state, record.celery_state, record.celery_meta]
