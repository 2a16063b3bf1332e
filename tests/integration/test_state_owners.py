"""Every state a run can wait in has an owner that moves it on (README: Who moves a run
on). One test per non-terminal state: its message is lost or its process is killed, and
real worker and beat processes still bring it to an end."""

from __future__ import annotations

import re
import signal
from datetime import timedelta
from typing import Any

from beat import deferred
from tasks_core import StateName
from tasks_core.process_runtime import get_runtime
from tasks_core.states import TERMINAL
from tasks_core.store.runs import Transition, utcnow
from tests.helpers import ROOT, record_of, wait_until
from tests.integration import sample_tasks as t

S = StateName


def _lose_message(rt: Any, run_id: str) -> None:
    """As if beat sent the run's message and the broker lost it."""
    assert rt.client.zrem(rt.store.keys.due, run_id) == 1


def _pid_of(tc_env: dict[str, Any], key: str) -> int:
    value = wait_until(lambda: tc_env["client"].get(f"{tc_env['prefix']}:pid:{key}"), 20,
                       message="the task to start")
    return int(value)


def _history(rt: Any, run_id: str) -> list[StateName]:
    return [h.name for h in rt.store.get_many([run_id], history=True)[0].history]


def test_scheduled_with_its_message_lost_is_resent(tc_env: dict[str, Any], start_worker: Any,
                                                   start_beat: Any) -> None:
    rt = get_runtime()
    future = t.add.apply_async((2, 3), countdown=0.3)
    _lose_message(rt, future.id)
    start_worker()
    start_beat()
    assert future.result(timeout=20) == 5
    assert S.LATE not in _history(rt, future.id)  # re-sent while still Scheduled


def test_late_with_its_message_lost_is_resent_and_claimed(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    rt = get_runtime()
    future = t.add.apply_async((2, 3), countdown=0.3)
    _lose_message(rt, future.id)
    deferred.tick(rt, utcnow() + timedelta(seconds=rt.settings.late_after_seconds + 1))
    assert future.state == S.LATE
    start_worker()
    start_beat()
    assert future.result(timeout=20) == 5
    assert _history(rt, future.id)[-3:] == [S.LATE, S.RUNNING, S.COMPLETED]


def test_pending_with_its_message_lost_is_resent(tc_env: dict[str, Any], start_worker: Any,
                                                 start_beat: Any) -> None:
    rt = get_runtime()
    run = record_of(t.add, '{"x":2,"y":3}', state=S.PENDING, queue=tc_env["queue"])
    rt.store.create(run)  # a record whose message never reached the broker
    start_worker()
    start_beat()
    assert rt.store.wait(run.id, 20) and rt.store.get(run.id).state == S.COMPLETED


def test_awaiting_retry_with_its_message_lost_is_resent(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    rt = get_runtime()
    start_beat()  # while a beat runs, a delayed retry waits in the due set
    wait_until(lambda: rt.client.exists(rt.store.keys.lock("beat")), 20, 0.05,
               "beat to take its lock")
    start_worker(concurrency=1)
    future = t.slow_retry.delay("lost-retry")
    wait_until(lambda: future.state == S.AWAITING_RETRY, 20, 0.02, "the first attempt to fail")
    _lose_message(rt, future.id)  # within its 2 s delay
    assert future.result(timeout=30) == 2


def test_running_whose_worker_is_killed_ends_crashed(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    worker = start_worker(concurrency=1)
    future = t.record_pid_and_sleep.delay("owner-running", 30)
    _pid_of(tc_env, "owner-running")
    worker.stop(signal.SIGKILL)
    start_beat()
    assert future.wait(timeout=20) == S.CRASHED


def test_retrying_whose_worker_is_killed_ends_crashed(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    worker = start_worker(concurrency=1)
    future = t.fail_then_record_pid_and_sleep.delay("owner-retrying", 30)
    _pid_of(tc_env, "owner-retrying")
    assert future.state == S.RETRYING
    worker.stop(signal.SIGKILL)
    start_beat()
    assert future.wait(timeout=20) == S.CRASHED  # its one retry is spent


def test_cancelling_whose_worker_is_killed_ends_cancelled(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    rt = get_runtime()
    worker = start_worker(concurrency=1)
    future = t.record_pid_and_sleep.delay("owner-cancelling", 30)
    _pid_of(tc_env, "owner-cancelling")
    worker.stop(signal.SIGKILL)
    # asked to stop just as its worker died: no process will ever answer
    assert rt.store.transition(Transition(future.id, S.CANCELLING, message="asked")).applied
    start_beat()
    assert future.wait(timeout=20) == S.CANCELLED


def test_cancelling_whose_request_was_missed_is_asked_again(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    rt = get_runtime()
    start_worker(concurrency=1)
    start_beat()
    future = t.spin.delay("missed-cancel", 30)
    wait_until(lambda: tc_env["client"].get(f"{tc_env['prefix']}:started:missed-cancel"), 20,
               0.05, "the task to start")
    # Cancelling without the pub/sub request (the process missed it): the sweeper asks again
    assert rt.store.transition(Transition(future.id, S.CANCELLING, message="asked")).applied
    assert future.wait(timeout=20) == S.CANCELLED


def test_paused_is_entered_only_by_pausing_and_has_owners() -> None:
    """Paused is entered only by `pause_flow_run` / `suspend_flow_run` (tasks_core/pausing.py,
    suspending.py) and by a canvas step created to wait for another (tasks_core/canvas/
    send.py); its owners: the paused process (its timeout), beat's sweeper (a pause whose
    process is gone, or a suspended run: `expire_pauses`), resume and cancel; a waiting
    canvas step is released or ended by the terminal transition of the run it waits for
    (`store/canvas_follow.lua`, called from transition.lua). The tests of each are in
    tests/integration/test_pause_resume.py and test_canvas.py."""
    entering = re.compile(r"\b(StateName|S)\.PAUSED\b")
    found = sorted(str(path.relative_to(ROOT)) for folder in ("tasks_core", "workers", "beat")
                   for path in (ROOT / folder).rglob("*.py")
                   if path.name != "states.py" and entering.search(path.read_text()))
    assert found == ["tasks_core/canvas/send.py", "tasks_core/pausing.py"]
    assert "expire_pauses(rt, now)" in (ROOT / "beat" / "sweeper.py").read_text()
    assert "canvas_follow(" in (ROOT / "tasks_core" / "store" / "transition.lua").read_text()
    assert {s for s in StateName if s not in TERMINAL} == {
        S.SCHEDULED, S.LATE, S.AWAITING_RETRY, S.PENDING, S.RUNNING, S.RETRYING,
        S.CANCELLING, S.PAUSED}  # each has a test above; a new state needs one too


def test_the_readme_table_names_every_waiting_state() -> None:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Who moves a run on"):]
    section = section[:section.index("\n#", 1)]
    for state in (s for s in StateName if s not in TERMINAL):
        assert f"| {state.value} |" in section, state
