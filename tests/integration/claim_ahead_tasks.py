"""Tasks for the claim-ahead tests (imported by their workers with
``--import tests.integration.claim_ahead_tasks``)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import redis

from tasks_core import task


@task
def echo(x: int) -> int:
    return x


def _noted(task: object, run: object, state: object) -> None:
    return None


@task(on_completion=[_noted])
def echo_with_hook(x: int) -> int:
    """A task with a state hook: its outcome is written at once, not with the next window's
    claims (the hook runs after it)."""
    return x


@task
def nap(x: int) -> int:
    time.sleep(0.03)  # longer than claim_ahead.CLAIM_AHEAD_BUDGET_S
    return x


@task(retries=1, retry_delay_seconds=0)
def die_once_when_claimed_ahead(x: int, marker: str, running_index: str) -> int:
    """Kill this pool process (SIGKILL, as the OOM killer would) the first time this runs
    while other runs are Running too (claimed ahead with it, in a one-process worker)."""
    if x >= 10 and not Path(marker).exists():
        url = os.environ["TASKS_CORE_REDIS_URL"]
        if redis.Redis.from_url(url).zcard(running_index) > 1:
            Path(marker).write_text(str(x))
            os.kill(os.getpid(), signal.SIGKILL)
    return x


@task
def cancel_others_once(x: int, marker: str, running_index: str, ran: str) -> int:
    """Note `x` in the file `ran`; the first time this runs while runs after it are Running
    too (claimed ahead with it), cancel every other Running run (those, and those ended
    with their outcome not written yet)
    (`cancel_run`, as a user would from another process) and write `x` and their ids to
    `marker`."""
    from tasks_core import cancel_run
    from tasks_core.runtime import task_run

    with open(ran, "a") as out:
        out.write(f"{x}\n")
    if x >= 10 and not Path(marker).exists():
        client = redis.Redis.from_url(os.environ["TASKS_CORE_REDIS_URL"], decode_responses=True)
        prefix = running_index.split(":task-runs:")[0]
        others = [run_id for run_id in client.zrange(running_index, 0, -1)
                  if run_id != task_run.id]
        later = [run_id for run_id in others  # claimed ahead of this one
                 if json.loads(client.hget(f"{prefix}:run:{run_id}", "parameters") or "{}"
                               ).get("x", -1) > x]
        if later:
            Path(marker).write_text("\n".join([str(x), *others]))
            for run_id in others:
                cancel_run(run_id, reason="cancelled by the test")
            time.sleep(0.2)  # the worker's cancel listener hears it before the next start
    return x
