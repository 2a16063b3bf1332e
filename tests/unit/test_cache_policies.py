"""Cache policies (tasks_core.cache_policies): pure key computation and the + / - algebra."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tasks_core.cache_policies import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NO_CACHE,
    NONE,
    RUN_ID,
    TASK_SOURCE,
    CompoundCachePolicy,
    Inputs,
    KeyInputs,
    cache_policy_option,
)
from tasks_core.engine.caching import CacheContext
from tasks_core.errors import ConfigurationError


def add(x: int, y: int) -> int:
    return x + y


def mul(x: int, y: int) -> int:
    return x * y


def _inputs(parameters: dict[str, Any], *, fn: Any = add, flow_run_id: str | None = None,
            flow_parameters: dict[str, Any] | None = None, run_id: str = "r1") -> KeyInputs:
    context = CacheContext("t", "m:t", run_id, SimpleNamespace(fn=fn))
    return KeyInputs(context, parameters, flow_run_id, lambda: flow_parameters)


def test_inputs_key_ignores_order_and_excluded_names() -> None:
    assert INPUTS.key(_inputs({"x": 1, "y": 2})) == INPUTS.key(_inputs({"y": 2, "x": 1}))
    assert INPUTS.key(_inputs({"x": 1})) != INPUTS.key(_inputs({"x": 2}))
    without = INPUTS - "debug"
    assert without == Inputs(("debug",))
    assert without.key(_inputs({"x": 1, "debug": True})) == without.key(
        _inputs({"x": 1, "debug": False}))


def test_source_run_id_and_flow_parameters() -> None:
    assert TASK_SOURCE.key(_inputs({}, fn=add)) != TASK_SOURCE.key(_inputs({}, fn=mul))
    assert RUN_ID.key(_inputs({}, flow_run_id="f1", run_id="a")) == RUN_ID.key(
        _inputs({}, flow_run_id="f1", run_id="b"))  # the flow run, not the task run
    assert RUN_ID.key(_inputs({}, run_id="a")) != RUN_ID.key(_inputs({}, run_id="b"))
    assert FLOW_PARAMETERS.key(_inputs({})) is None  # outside a flow
    assert FLOW_PARAMETERS.key(_inputs({}, flow_parameters={"d": 1})) != FLOW_PARAMETERS.key(
        _inputs({}, flow_parameters={"d": 2}))


def test_sums_and_none() -> None:
    assert CompoundCachePolicy((INPUTS, TASK_SOURCE, RUN_ID)) == DEFAULT
    assert NONE is NO_CACHE and NONE.key(_inputs({"x": 1})) is None
    assert NONE + INPUTS == INPUTS and INPUTS + NONE == INPUTS
    both = INPUTS + FLOW_PARAMETERS
    assert both.key(_inputs({"x": 1})) is not None  # a None part is skipped
    assert (FLOW_PARAMETERS + FLOW_PARAMETERS).key(_inputs({})) is None
    assert (DEFAULT - "x").key(_inputs({"x": 1}, run_id="a")) == (DEFAULT - "x").key(
        _inputs({"x": 2}, run_id="a"))


def test_option_validation_names_the_task() -> None:
    assert cache_policy_option("task t", "inputs") is INPUTS
    assert cache_policy_option("task t", NONE) is None
    assert cache_policy_option("task t", DEFAULT) is DEFAULT
    with pytest.raises(ConfigurationError, match="task t: cache_policy must be"):
        cache_policy_option("task t", "everything")
    with pytest.raises(ConfigurationError, match="only INPUTS leaves a parameter out"):
        _ = TASK_SOURCE - "x"
