"""Task caching: hits end Cached and skip the function; keys, expiration and refresh."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tasks_core import StateName
from tasks_core.errors import ConfigurationError
from tasks_core.flow import flow
from tasks_core.process_runtime import get_runtime
from tasks_core.task import task
from tests.integration import sample_tasks as t


def _calls(tc_env: dict[str, Any], name: str) -> int:
    return int(tc_env["client"].get(f"{tc_env['prefix']}:test-counter:{name}") or 0)


def test_default_policy_keys_on_task_and_inputs(tc_env: dict[str, Any]) -> None:
    @flow
    def twice() -> list[int]:
        return [t.cached_square("sq", 3), t.cached_square("sq", 3), t.cached_square("sq", 4)]

    assert twice() == [9, 9, 16]
    assert _calls(tc_env, "sq") == 2  # the second call with the same inputs was a hit
    rt = get_runtime()
    rt.reporter.flush()
    flow_id = rt.store.list_ids("flow", limit=1)[0]
    states = [r.state for r in rt.store.get_many(rt.store.children(flow_id))]
    assert states == [StateName.COMPLETED, StateName.CACHED, StateName.COMPLETED]


def test_cache_key_fn_expiration_and_refresh(tc_env: dict[str, Any]) -> None:
    assert t.cached_by_name("nm", 1) == 1
    assert t.cached_by_name("nm", 2) == 1  # same key (the name): the cached value
    assert _calls(tc_env, "nm") == 1
    refreshing = task(t.cached_by_name.fn, name="cached_by_name",
                      cache_key_fn=t.cached_by_name.cache_key_fn, cache_expiration=1,
                      refresh_cache=True)
    assert refreshing("nm", 3) == 3 and _calls(tc_env, "nm") == 2
    assert t.cached_by_name("nm", 4) == 3  # the refreshed value is what is cached now
    time.sleep(1.2)
    assert t.cached_by_name("nm", 5) == 5  # expired after cache_expiration


def test_bad_cache_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="cache_policy"):
        task(lambda: 1, cache_policy="everything")
    with pytest.raises(ConfigurationError, match="cache_expiration"):
        task(lambda: 1, cache_policy="inputs", cache_expiration=0)
