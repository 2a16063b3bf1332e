"""`rate_limit=` enforced across all workers by a Redis token bucket, on real workers
(issue 14, item 7)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from typing import Any

import pytest

from tasks_core import StateName, task, wait_all
from tasks_core.errors import ConfigurationError
from tests.helpers import ROOT
from tests.integration import calling_tasks as c

S = StateName
IMPORTS = ("tests.integration.calling_tasks",)


def test_rate_limit_holds_across_two_workers_and_runs_wait(tc_env: dict[str, Any],
                                                           start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    start_worker(concurrency=1, imports=IMPORTS)
    futures = [c.limited.delay(i) for i in range(4)]
    assert set(wait_all(futures, timeout=60)) == {S.COMPLETED}
    records = [f.record() for f in futures]
    starts = sorted(r.start_time for r in records if r.start_time)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert len(starts) == 4 and min(gaps) >= 0.4, gaps  # 2/s: one start per 0.5 s
    for record in records:  # waiting is not failing: no retry, no error
        assert record.attempt == 1 and record.error is None
        assert [h.name for h in record.history] == [S.PENDING, S.RUNNING, S.COMPLETED]


def test_celery_control_rate_limit_changes_the_shared_limit(tc_env: dict[str, Any],
                                                            start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    assert c.crawl.delay(0).get(timeout=20) == 0  # the first start of the minute
    control = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "tasks_core", "control", "rate_limit",
         "proj.crawl", "100/s"], env=tc_env["env"], cwd=ROOT, capture_output=True,
        text=True, timeout=60)
    assert control.returncode == 0, control.stdout + control.stderr
    assert "new rate limit set successfully" in control.stdout
    futures = [c.crawl.delay(i) for i in (1, 2)]  # 1/m would hold them a minute
    assert [f.get(timeout=20) for f in futures] == [1, 2]
    unknown = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "tasks_core", "control", "rate_limit",
         "proj.nothing", "1/m"], env=tc_env["env"], cwd=ROOT, capture_output=True,
        text=True, timeout=60)
    assert "unknown task" in unknown.stdout + unknown.stderr


@pytest.mark.parametrize("bad", ["ten/m", "10/x", -1, [1], True])
def test_a_bad_rate_limit_is_refused_at_decoration(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="rate_limit"):
        task(rate_limit=bad)(lambda: None)


def test_a_take_sent_again_after_a_lost_reply_reserves_no_second_start(
        tc_env: dict[str, Any]) -> None:
    """rate_take.lua knows its own take sent again (redis-py's retry after the reply was
    lost) by the call's token: it answers with the start it reserved, so the next caller's
    wait is one slot, not two."""
    from tasks_core.process_runtime import get_runtime

    buckets = get_runtime().rate_limits
    assert buckets.take("lost-reply", 2.0, token="a") == 0
    again = buckets.take("lost-reply", 2.0, token="a")  # what redis-py's retry sends
    assert again == 0
    wait = buckets.take("lost-reply", 2.0, token="b")  # the next start: one slot (0.5 s)
    assert wait is not None and 0.3 < wait <= 0.5
    again = buckets.take("lost-reply", 2.0, token="b")
    assert again is not None and 0.3 < again <= wait
