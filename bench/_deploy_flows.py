"""Flow and task of bench/deployments.py (loaded by its worker: ``-i bench._deploy_flows``).

Import this only after ``TASKS_CORE_REDIS_URL`` and ``TASKS_CORE_KEY_PREFIX`` are set.
Deployments of ``noop_flow`` name it by entrypoint ``bench._deploy_flows:noop_flow``; the
deferred runs of ``noop_task`` go to the work pool ``bench_deferred``.
"""

from __future__ import annotations

from tasks_core import flow, task

TASK_POOL = "bench_deferred"


@flow
def noop_flow(x: int = 0) -> int:
    """Do nothing; return the parameter (so round trips can be checked)."""
    return x


@task(queue=TASK_POOL)
def noop_task(x: int = 0) -> int:
    """Do nothing; return the argument."""
    return x
