"""`AsyncResult` (issue 14 item 2) on a real Redis and real worker processes: Celery's
state names, ``get(timeout=, propagate=)``, the result properties, an unknown id, another
process, ``forget()`` and ``revoke()`` (a revoked run never runs later)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from typing import Any

import celery.exceptions
import pytest

from tasks_core.async_result import AsyncResult
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName
from tests.helpers import ROOT, wait_until
from tests.integration import futures_tasks as ft

IMPORTS = ("tests.integration.futures_tasks",)


def test_success_and_failure_in_celery_terms(tc_env: dict[str, Any],
                                             start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    ok = AsyncResult(ft.add.delay(2, 3).id)
    assert ok.get(timeout=30) == 5
    assert ok.state == "SUCCESS" and ok.status == "SUCCESS" and type(ok.state) is str
    assert ok.ready() and ok.successful() and not ok.failed()
    assert ok.result == 5 and ok.info == 5 and ok.traceback is None
    assert isinstance(ok.date_done, datetime) and ok.task_id == ok.id
    assert ok.kwargs == {"x": 2, "y": 3} and ok.args is None
    bad = AsyncResult.from_future(ft.boom.delay("nope"))
    err = bad.get(timeout=30, propagate=False)
    assert isinstance(err, ValueError) and str(err) == "nope"
    with pytest.raises(ValueError, match="nope"):
        bad.get(timeout=30)
    assert bad.state == "FAILURE" and bad.failed() and not bad.successful() and bad.ready()
    assert isinstance(bad.result, ValueError) and isinstance(bad.info, ValueError)
    assert bad.traceback and "ValueError: nope" in bad.traceback


def test_an_unknown_id_reads_pending_and_get_times_out(tc_env: dict[str, Any]) -> None:
    unknown = AsyncResult("no-such-task-id")
    assert unknown.state == "PENDING" and unknown.status == "PENDING"
    assert not unknown.ready() and unknown.result is None and unknown.date_done is None
    with pytest.raises(celery.exceptions.TimeoutError):
        unknown.get(timeout=0.2)
    queued = AsyncResult.from_future(ft.add.apply_async((1, 1), queue="nobody-listens"))
    assert queued.state == "PENDING"
    with pytest.raises(celery.exceptions.TimeoutError):
        queued.get(timeout=0.2)


def test_another_process_reads_the_result_by_id(tc_env: dict[str, Any],
                                                start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    run_id = ft.add.delay(20, 22).id
    code = ("from tasks_core.async_result import AsyncResult; import sys; "
            "r = AsyncResult(sys.argv[1]); print(r.get(timeout=30), r.state, r.successful())")
    out = subprocess.run([sys.executable, "-c", code, run_id], env=tc_env["env"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["42", "SUCCESS", "True"]


def test_forget_drops_the_value_and_keeps_the_record(tc_env: dict[str, Any],
                                                     start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    result = AsyncResult(ft.add.delay(1, 2).id)
    assert result.get(timeout=30) == 3
    result.forget()
    assert result.result is None and result.state == "SUCCESS"
    assert get_runtime().store.get(result.id).state is StateName.COMPLETED


def test_revoke_cancels_in_the_ledger_and_the_run_never_runs(tc_env: dict[str, Any],
                                                             start_worker: Any) -> None:
    pool = f"{tc_env['queue']}-later"
    result = AsyncResult.from_future(ft.add.apply_async((3, 4), queue=pool))
    assert result.revoke() is None
    assert result.state == "REVOKED" and result.ready() and not result.successful()
    start_worker(concurrency=1, pool=pool, imports=IMPORTS)
    control = AsyncResult.from_future(ft.add.apply_async((5, 6), queue=pool))
    assert control.get(timeout=30) == 11  # the worker runs what it is given...
    assert get_runtime().store.get(result.id).state is StateName.CANCELLED  # ...not this
    with pytest.raises(Exception, match="Cancelled"):
        result.get(timeout=5)


def test_revoke_terminate_stops_a_running_task(tc_env: dict[str, Any],
                                               start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    result = AsyncResult.from_future(ft.slow_add.delay(1, 1, 30))
    wait_until(lambda: result.state == "STARTED", 30, 0.05, "the run to start")
    result.revoke(terminate=True, wait=True, timeout=30)
    assert result.state == "REVOKED" and result.ready()
