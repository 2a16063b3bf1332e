"""Celery's task signals on a real worker, with the user's task as sender (issue 14,
item 8): prerun, postrun (the run's real state), success (the result), failure (exception,
traceback), retry, revoked, received, worker_ready, worker_process_init, and
``connect(sender=task)`` filters."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tasks_core import StateName
from tests.helpers import wait_until
from tests.integration import signal_tasks as s

IMPORTS = ("tests.integration.signal_tasks",)


def _seen(tc_env: dict[str, Any]) -> list[dict[str, Any]]:
    raw = tc_env["client"].lrange(f"{tc_env['prefix']}:test-task-signals", 0, -1)
    return [json.loads(line) for line in raw]


def _of(seen: list[dict[str, Any]], run_id: str) -> list[str]:
    return [e["signal"] for e in seen if e.get("id") == run_id]


def test_task_signals_name_the_users_task(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=2, imports=IMPORTS)
    added = s.sig_add.delay(2, 3)
    failed = s.sig_fail.delay(7)
    flaky = s.sig_flaky.delay("k1")
    assert added.get(timeout=20) == 5
    with pytest.raises(ValueError, match="bad 7"):
        failed.get(timeout=20)
    assert flaky.get(timeout=20) == "second"
    def postruns() -> list[int]:  # each run's receivers write after its end is stored
        seen = _seen(tc_env)
        return [_of(seen, run.id).count("task_postrun") for run in (added, failed, flaky)]

    wait_until(lambda: postruns() == [1, 1, 2], 10, 0.1, "every attempt's task_postrun")
    seen = _seen(tc_env)
    assert not [e for e in seen if e.get("sender") == "tasks_core.run"]  # the carrier hides
    assert _of(seen, added.id) == ["task_received", "task_prerun", "task_postrun"]
    prerun = next(e for e in seen if e["signal"] == "task_prerun" and e["id"] == added.id)
    assert prerun["sender"] == prerun["task"] == "proj.sig_add"
    assert prerun["args"] == [2, 3] and prerun["kwargs"] == {}
    postrun = [e for e in seen if e["signal"] == "task_postrun"]
    assert {(e["id"], e["state"]) for e in postrun} == {
        (added.id, "SUCCESS"), (failed.id, "FAILURE"), (flaky.id, "RETRY"),
        (flaky.id, "SUCCESS")}
    successes = [e for e in seen if e["signal"] == "task_success"]
    assert sorted((e["sender"], e["result"], e["request_id"]) for e in successes) == sorted([
        ("proj.sig_add", 5, added.id), ("proj.sig_flaky", "second", flaky.id)])
    (failure,) = [e for e in seen if e["signal"] == "task_failure"]
    assert failure == {"signal": "task_failure", "sender": "proj.sig_fail", "id": failed.id,
                       "exception": "ValueError", "message": "bad 7", "has_traceback": True,
                       "args": [7]}
    (retry,) = [e for e in seen if e["signal"] == "task_retry"]
    assert retry["sender"] == "proj.sig_flaky" and retry["exception"] == "KeyError"
    assert [e["sender"] for e in seen if e["signal"] == "task_success[sender=sig_add]"] == [
        "proj.sig_add"]  # connect(sender=sig_add) fires for it alone
    assert len([e for e in seen if e["signal"] == "worker_ready"]) == 1
    assert len([e for e in seen if e["signal"] == "worker_process_init"]) == 2  # -c 2


def test_task_revoked_for_a_cancelled_and_an_expired_run(tc_env: dict[str, Any],
                                                        start_worker: Any) -> None:
    from tests.integration import sample_tasks as t

    expired = s.sig_add.apply_async((1, 1), expires=0.2)
    time.sleep(0.4)
    start_worker(concurrency=1, imports=(*IMPORTS, "tests.integration.sample_tasks"))
    assert expired.wait(timeout=20) == StateName.CANCELLED
    busy = t.spin.delay("sig-revoke", 60)
    started = f"{tc_env['prefix']}:started:sig-revoke"
    wait_until(lambda: tc_env["client"].get(started), 20, 0.05, "spin to start")
    busy.cancel()
    assert busy.wait(timeout=20) == StateName.CANCELLED
    # task_revoked, then task_postrun: two writes of the test's receivers, read after both
    wait_until(lambda: {"task_revoked", "task_postrun"} <= set(_of(_seen(tc_env), busy.id)),
               10, 0.1, "revoked and postrun")
    seen = _seen(tc_env)
    (revoked,) = [e for e in seen if e["signal"] == "task_revoked" and e["id"] == busy.id]
    assert revoked["sender"] == "spin" and revoked["expired"] is False
    assert ("REVOKED" in [e["state"] for e in seen
                          if e["signal"] == "task_postrun" and e["id"] == busy.id])
    # an expired run: task_revoked with expired=True and nothing else, as Celery sends
    assert [(e["signal"], e["sender"], e["expired"]) for e in seen
            if e.get("id") == expired.id and e["signal"] != "task_received"] == [
        ("task_revoked", "proj.sig_add", True)]


def test_task_revoked_for_runs_revoked_through_celerys_control(tc_env: dict[str, Any],
                                                               start_worker: Any) -> None:
    """``app.control.revoke`` (Celery's own revoke of the run's message): a running run
    terminated and a queued one discarded each send ``task_revoked`` once, with the user's
    task as sender (a Celery user's trial: none was sent; Celery sends it)."""
    from tasks_core.celery import Celery
    from tests.integration import sample_tasks as t

    start_worker(concurrency=1, imports=(*IMPORTS, "tests.integration.sample_tasks"))
    busy = t.spin.delay("sig-control", 60)
    queued = s.sig_add.delay(2, 3)  # behind busy on the one process
    started = f"{tc_env['prefix']}:started:sig-control"
    wait_until(lambda: tc_env["client"].get(started), 20, 0.05, "spin to start")
    control = Celery("trial").control
    control.revoke(queued.id)
    control.revoke(busy.id, terminate=True)
    assert busy.wait(timeout=20) == StateName.CANCELLED
    assert queued.wait(timeout=20) == StateName.CANCELLED
    wait_until(lambda: {busy.id, queued.id} <= {e.get("id") for e in _seen(tc_env)
                                               if e["signal"] == "task_revoked"},
               10, 0.1, "task_revoked for both")
    time.sleep(0.5)
    revoked = [(e["sender"], e["id"]) for e in _seen(tc_env) if e["signal"] == "task_revoked"]
    assert sorted(revoked) == sorted([("spin", busy.id), ("proj.sig_add", queued.id)])
