"""System B of bench/tasks_alone.py: the same no-op as a tasks-core ``@task``.

Import this only after ``TASKS_CORE_REDIS_URL`` and ``TASKS_CORE_KEY_PREFIX`` are set (the
bench sets them for itself and for the worker it starts). Runs go to the work pool
``bench_tc``; the worker is ``tasks-core worker --pool bench_tc -i bench._tc_tasks``.
"""

from __future__ import annotations

from typing import Any

from tasks_core import task

POOL = "bench_tc"


@task(queue=POOL)
def noop(x: Any = None) -> Any:
    """Do nothing; return the argument (so round trips can be checked)."""
    return x
