"""Tasks and Celery signal receivers of the task-signal tests, imported by the worker.

Each receiver appends one JSON line to `<prefix>:test-task-signals` (a LIST): the signal,
its sender's name, the run id and the documented arguments worth checking."""

from __future__ import annotations

import json
import os
from typing import Any

from celery import signals

from tasks_core import task
from tasks_core.process_runtime import get_runtime


def _record(**fields: Any) -> None:
    rt = get_runtime()
    rt.client.rpush(f"{rt.settings.key_prefix}:test-task-signals",
                    json.dumps(fields, default=repr))


@task(name="proj.sig_add")
def sig_add(x: int, y: int) -> int:
    return x + y


@task(name="proj.sig_fail")
def sig_fail(x: int) -> int:
    raise ValueError(f"bad {x}")


@task(name="proj.sig_flaky", retries=1, retry_delay_seconds=0)
def sig_flaky(key: str) -> str:
    rt = get_runtime()
    if int(rt.client.incr(f"{rt.settings.key_prefix}:test-flaky:{key}")) < 2:
        raise KeyError("first attempt fails")
    return "second"


def _prerun(sender: Any = None, task_id: str = "", task: Any = None, args: Any = None,
            kwargs: Any = None, **_: Any) -> None:
    _record(signal="task_prerun", sender=sender.name, id=task_id, task=task.name,
            args=args, kwargs=kwargs)


def _postrun(sender: Any = None, task_id: str = "", state: str = "", retval: Any = None,
             **_: Any) -> None:
    _record(signal="task_postrun", sender=sender.name, id=task_id, state=state,
            retval=repr(retval))


def _success(sender: Any = None, result: Any = None, **_: Any) -> None:
    _record(signal="task_success", sender=sender.name, result=result,
            request_id=sender.request.id)  # as a Celery task's receivers read it


def _failure(sender: Any = None, task_id: str = "", exception: Any = None,
             traceback: Any = None, args: Any = None, **_: Any) -> None:
    _record(signal="task_failure", sender=sender.name, id=task_id,
            exception=type(exception).__name__, message=str(exception),
            has_traceback=traceback is not None, args=args)


def _retry(sender: Any = None, request: Any = None, reason: Any = None, **_: Any) -> None:
    _record(signal="task_retry", sender=sender.name, id=request.id,
            exception=type(reason.exc).__name__)


def _revoked(sender: Any = None, request: Any = None, expired: bool = False,
             **_: Any) -> None:
    _record(signal="task_revoked", sender=getattr(sender, "name", None),
            id=getattr(request, "id", None), expired=expired)


def _only_add(sender: Any = None, **_: Any) -> None:
    _record(signal="task_success[sender=sig_add]", sender=sender.name)


def _worker_ready(sender: Any = None, **_: Any) -> None:
    _record(signal="worker_ready", pid=os.getpid())


def _process_init(**_: Any) -> None:
    _record(signal="worker_process_init", pid=os.getpid())


def _received(sender: Any = None, request: Any = None, **_: Any) -> None:
    _record(signal="task_received", id=getattr(request, "id", None))


signals.task_prerun.connect(_prerun, weak=False)
signals.task_postrun.connect(_postrun, weak=False)
signals.task_success.connect(_success, weak=False)
signals.task_failure.connect(_failure, weak=False)
signals.task_retry.connect(_retry, weak=False)
signals.task_revoked.connect(_revoked, weak=False)
signals.task_success.connect(_only_add, sender=sig_add, weak=False)
signals.worker_ready.connect(_worker_ready, weak=False)
signals.worker_process_init.connect(_process_init, weak=False)
signals.task_received.connect(_received, weak=False)
