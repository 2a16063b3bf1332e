"""Beat across jumps of the wall clock: set forward an hour it does not flood the queue
(the catch-up policy decides about the skipped hour), set back an hour it does not stop
scheduling (every scheduled deployment is re-planned from the new time). Injected time
against a real Redis, then real beat processes whose clock is shifted
(BEAT_TEST_CLOCK_OFFSET_SECONDS, test only)."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from typing import Any

import pytest

from beat import deferred, scheduler
from beat.clock import OFFSET_VARIABLE
from tasks_core import StateName
from tasks_core.process_runtime import get_runtime
from tasks_core.store.runs import utcnow
from tests.helpers import wait_until
from tests.integration import sample_flows as f

S = StateName
HOUR = timedelta(hours=1)


def _flow_runs() -> list[Any]:
    store = get_runtime().store
    return store.get_many(store.list_ids("flow", limit=5000))


@pytest.mark.parametrize(("policy", "runs"), [("skip", 0), ("latest", 1), ("all", 200)])
def test_a_clock_set_forward_an_hour_runs_what_the_policy_says_not_an_hours_backlog(
        tc_env: dict[str, Any], policy: str, runs: int) -> None:
    rt = get_runtime()
    limit = rt.settings.schedule_max_runs
    f.pipeline.deploy("every-2s", work_pool_name=tc_env["queue"], interval=2,
                      parameters={"lat": 1}, catchup=policy)
    start = utcnow()
    queued = scheduler.tick(rt, start)
    assert len(queued) == limit  # planned ahead: 200 s of runs
    jumped = start + HOUR
    sent = deferred.tick(rt, jumped)
    created = scheduler.tick(rt, jumped)
    grace = timedelta(seconds=rt.settings.catchup_grace_seconds)
    missed_created = [i for i in created if rt.store.get(i).scheduled_time < jumped - grace]
    # all: the queued runs plus the newest `limit` of the skipped hour, never 1800
    assert len(sent) + len(missed_created) == min(runs, 2 * limit)
    skipped = [r for r in rt.store.get_many(queued) if r.state == S.CANCELLED]
    assert len(skipped) == limit - len(sent)
    assert all("catch-up policy" in r.state_message for r in skipped)
    ahead = [i for i in created if rt.store.get(i).scheduled_time >= jumped - grace]
    assert 0 < len(ahead) <= limit + 1  # it goes on from the new time (+ one within the grace)


def test_a_clock_set_back_an_hour_replans_instead_of_waiting_an_hour(
        tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    f.pipeline.deploy("every-minute", work_pool_name=tc_env["queue"], interval=60,
                      parameters={"lat": 1})
    real = utcnow()
    early = scheduler.tick(rt, real + HOUR)  # the clock was an hour ahead
    assert min(rt.store.get(i).scheduled_time for i in early) > real + HOUR
    again = scheduler.tick(rt, real)  # set right: an hour back
    assert {r.state for r in rt.store.get_many(early)} == {S.CANCELLED}
    assert all("wall clock went back 3600s" in r.state_message
               for r in rt.store.get_many(early))
    times = sorted(rt.store.get(i).scheduled_time for i in again)
    assert times[0] <= real + timedelta(seconds=60)  # the next minute, not in an hour
    due = rt.due.heads()
    assert due and min(due) <= (real + timedelta(seconds=60)).timestamp()
    assert scheduler.tick(rt, real + timedelta(seconds=1)) == []  # once, not every pass


@pytest.mark.parametrize("policy", ["skip", "latest", "all"])
def test_a_clock_an_hour_ahead_then_set_right_goes_on_at_once(
        tc_env: dict[str, Any], policy: str) -> None:
    """The times the wrong clock used up (run or skipped early) run again at their real
    time: no gap as long as the jump (an NTP correction after a bad clock)."""
    rt = get_runtime()
    f.pipeline.deploy("every-minute", work_pool_name=tc_env["queue"], interval=60,
                      parameters={"lat": 1}, catchup=policy)
    real = utcnow()
    scheduler.tick(rt, real)  # planned ahead on the right clock
    wrong = real + HOUR
    deferred.tick(rt, wrong)  # the clock jumped ahead: the planned hour is missed
    scheduler.tick(rt, wrong)
    deferred.tick(rt, wrong + timedelta(seconds=1))
    again = scheduler.tick(rt, real + timedelta(seconds=2))  # set right
    times = sorted(rt.store.get(i).scheduled_time for i in again)
    assert times and times[0] <= real + timedelta(seconds=62), (times[:1], real)
    assert len({t for t in times}) == len(times)  # each time once


def test_small_steps_back_do_not_replan(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    f.pipeline.deploy("hourly", work_pool_name=tc_env["queue"], cron="0 * * * *",
                      parameters={"lat": 1})
    now = utcnow()
    queued = scheduler.tick(rt, now)
    scheduler.tick(rt, now - timedelta(seconds=scheduler.CLOCK_TOLERANCE - 1))
    assert {r.state for r in rt.store.get_many(queued)} == {S.SCHEDULED}


def _beat_with_clock(tc_env: dict[str, Any], start_beat: Any, offset: float) -> Any:
    """A real beat whose wall clock reads `offset` seconds off."""
    tc_env["env"][OFFSET_VARIABLE] = str(offset)
    try:
        return start_beat()
    finally:
        del tc_env["env"][OFFSET_VARIABLE]


def _stop(proc: Any) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(15)


def test_real_beat_restarted_with_its_clock_an_hour_back_keeps_scheduling(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    f.pipeline.deploy("every-2s", work_pool_name=tc_env["queue"], interval=2,
                      parameters={"lat": 1})
    start_worker(concurrency=2)
    ahead = _beat_with_clock(tc_env, start_beat, 3600)
    wait_until(lambda: any(r.state == S.COMPLETED for r in _flow_runs()), 30, 0.2,
               "a run while the clock is an hour ahead")
    _stop(ahead)
    restarted = utcnow()
    start_beat()  # the clock is right again: an hour back
    wait_until(lambda: any(r.state == S.COMPLETED and r.scheduled_time is not None
                           and abs(r.scheduled_time - restarted) < timedelta(seconds=30)
                           for r in _flow_runs()), 30, 0.2,
               "a run of the present time, not an hour later")
    assert any("wall clock went back" in r.state_message for r in _flow_runs()
               if r.state == S.CANCELLED)


def test_real_beat_restarted_with_its_clock_an_hour_ahead_does_not_flood(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any) -> None:
    f.pipeline.deploy("every-2s", work_pool_name=tc_env["queue"], interval=2,
                      parameters={"lat": 1}, catchup="skip")
    start_worker(concurrency=2)
    first = start_beat()
    wait_until(lambda: any(r.state == S.COMPLETED for r in _flow_runs()), 30, 0.2,
               "a scheduled run")
    _stop(first)
    restarted = utcnow()
    _beat_with_clock(tc_env, start_beat, 3600)
    wait_until(lambda: any(r.state == S.COMPLETED and r.scheduled_time is not None
                           and r.scheduled_time > restarted + HOUR - timedelta(seconds=60)
                           for r in _flow_runs()), 30, 0.2, "a run of the new time")
    time.sleep(2)
    runs = _flow_runs()
    planned_before = [r for r in runs if r.scheduled_time is not None
                      and restarted < r.scheduled_time < restarted + timedelta(minutes=10)]
    assert planned_before and {r.state for r in planned_before} == {S.CANCELLED}
    started = [r for r in runs if r.start_time is not None and r.start_time > restarted]
    assert len(started) <= 4 + 1  # one per 2 s of the new time, no backlog
