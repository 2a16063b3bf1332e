"""The catch-up policy after downtime, with real beat and worker processes: the issue's
example (interval=2, beat runs 5 s, is stopped 12 s, restarted), at half its times
(interval=1, beat runs until it has planned the times ahead and 1 s more, is stopped 7 s) under
each policy, and runs made by hand are never skipped."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from beat import deferred
from tasks_core import StateName
from tasks_core.deployments import run_deployment
from tasks_core.process_runtime import get_runtime
from tasks_core.store.runs import utcnow
from tests.helpers import wait_until
from tests.integration import sample_flows as f

S = StateName


def _scheduled_runs() -> list[Any]:
    store = get_runtime().store
    return [r for r in store.get_many(store.list_ids("flow", limit=2000))
            if r.scheduled_time is not None]


def _downtime(start_beat: Any, rt: Any) -> tuple[datetime, datetime]:
    """Run beat until it has planned the next times (and 1 s more), stop it for 7 s, restart
    it: (stopped, restarted) instants."""
    beat = start_beat()
    wait_until(lambda: len(_scheduled_runs()) >= 20, 30, 0.1, "beat to plan the times ahead")
    time.sleep(1)
    os.killpg(beat.pid, signal.SIGTERM)
    beat.wait(15)
    stopped = utcnow()
    wait_until(lambda: not rt.client.exists(rt.store.keys.lock("beat")), 5, 0.05,
               "the stopped beat's lock to go")
    time.sleep(7)
    start_beat()
    wait_until(lambda: rt.client.exists(rt.store.keys.lock("beat")), 20, 0.02,
               "the new beat to lead")
    return stopped, utcnow()


@pytest.mark.parametrize("policy", ["skip", "latest", "all"])
def test_the_catchup_policy_holds_for_runs_planned_ahead_after_downtime(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any, policy: str) -> None:
    rt = get_runtime()
    f.pipeline.deploy("every-1s", work_pool_name=tc_env["queue"], interval=1,
                      parameters={"lat": 1}, catchup=policy)
    start_worker(concurrency=2)
    stopped, restarted = _downtime(start_beat, rt)
    grace = timedelta(seconds=rt.settings.catchup_grace_seconds)
    # the times surely missed: after the stop, older than the grace when beat came back
    missed = sorted((r for r in _scheduled_runs()
                     if stopped < r.scheduled_time < restarted - grace - timedelta(seconds=0.3)),
                    key=lambda r: r.scheduled_time)
    assert len(missed) >= 4  # 7 s at one time a second, less the edges and grace
    wait_until(lambda: all(rt.store.get(r.id).is_terminal for r in missed), 30, 0.2,
               "the missed runs to end")
    ended = [rt.store.get(r.id) for r in missed]
    states = [r.state for r in ended]
    if policy == "all":
        assert states == [S.COMPLETED] * len(missed)
    else:
        assert states[:-1] == [S.CANCELLED] * (len(missed) - 1)
        if policy == "skip":
            assert states[-1] == S.CANCELLED
        elif states[-1] == S.CANCELLED:  # latest: a newer missed one (at the edge) ran
            wait_until(lambda: any(missed[-1].scheduled_time < r.scheduled_time < restarted
                                   and r.state == S.COMPLETED for r in _scheduled_runs()),
                       20, 0.2, "the newest missed run to complete")
        for record in (r for r in ended if r.state == S.CANCELLED):
            assert f"skipped by the deployment's catch-up policy '{policy}'" in \
                record.state_message
    # scheduling goes on: a time after the restart runs
    wait_until(lambda: any(r.state == S.COMPLETED and r.scheduled_time > restarted
                           for r in _scheduled_runs()), 30, 0.2, "a run after the restart")
    times = [r.scheduled_time for r in _scheduled_runs()]
    assert len(times) == len(set(times))  # no time created twice


def test_runs_made_by_hand_for_a_past_time_are_never_skipped(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    f.pipeline.deploy("by-hand", work_pool_name=tc_env["queue"], interval=3600,
                      parameters={"lat": 1}, catchup="skip")
    soon = utcnow() + timedelta(seconds=0.3)
    run = run_deployment("pipeline/by-hand", scheduled_time=soon, timeout=0)
    time.sleep(0.5)
    sent = deferred.tick(rt, utcnow() + timedelta(minutes=5))  # beat was down 5 minutes
    assert run.id in sent
    assert rt.store.get(run.id).state != S.CANCELLED
