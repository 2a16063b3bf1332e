"""The WorkPool record's paused work queues (pure: no Redis)."""

from __future__ import annotations

import re

import pydantic
import pytest

from tasks_core.deployment_models import WorkPool


def test_paused_queues_are_kept_sorted_without_repeats() -> None:
    pool = WorkPool(name="gpu", paused_queues=["low", "high", "low", "a.b-c_1"])
    assert pool.paused_queues == ["a.b-c_1", "high", "low"]
    assert WorkPool(name="gpu").paused_queues == []
    again = WorkPool.model_validate_json(pool.model_dump_json())
    assert again.paused_queues == ["a.b-c_1", "high", "low"]


def test_a_record_saved_before_paused_queues_reads_with_none() -> None:
    old = '{"name": "gpu", "paused": true, "concurrency_limit": 2, "description": null}'
    pool = WorkPool.model_validate_json(old)
    assert (pool.paused, pool.paused_queues) == (True, [])


@pytest.mark.parametrize(("queues", "problem"), [
    (["high", "hi gh"], "work queue name 'hi gh' has ' '"),
    (["gpu:high"], "work queue name 'gpu:high' has ':'"),
    ([""], "work queue name '' is empty"),
    (["_x"], "work queue name '_x' starts with '_'"),
    (["q" * 101], "is 101 characters long (at most 100)"),
])
def test_a_bad_queue_name_is_refused_naming_it(queues: list[str], problem: str) -> None:
    with pytest.raises(pydantic.ValidationError,
                       match=r"paused_queues\n.*" + re.escape(problem)):
        WorkPool(name="gpu", paused_queues=queues)
