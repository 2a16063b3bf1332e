"""State change hooks, the pure parts: option validation, which state calls which hook,
the views hooks get, and firing with a written outcome (no Redis: a worker's handle)."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest

from tasks_core import flow, task
from tasks_core.engine.context import RunFrame
from tasks_core.engine.hooks import HookSet, RunHooks, fire_final, hook_for_state, hook_set
from tasks_core.engine.lifecycle import RunHandle
from tasks_core.engine.outcome import Complete
from tasks_core.engine.views import RunState, RunView
from tasks_core.errors import ConfigurationError
from tasks_core.flow import FlowState
from tasks_core.process_runtime import Runtime
from tasks_core.records import RunOptions
from tasks_core.states import TERMINAL, StateName
from tasks_core.store.runs import Transition

S = StateName


def _noop(definition: Any, run: Any, state: Any) -> None:
    return None


@pytest.mark.parametrize(("name", "option"), [
    (S.COMPLETED, "on_completion"), (S.CACHED, "on_completion"), (S.FAILED, "on_failure"),
    (S.TIMED_OUT, "on_failure"), (S.CRASHED, "on_crashed"),
    (S.CANCELLED, "on_cancellation")])
def test_each_final_state_calls_the_hook_of_its_type(name: StateName, option: str) -> None:
    assert hook_for_state(name) == option


def test_states_that_are_not_final_call_no_final_hook() -> None:
    for name in set(StateName) - TERMINAL:
        assert hook_for_state(name) is None, name


def test_options_are_validated_when_decorating() -> None:
    with pytest.raises(ConfigurationError, match=r"on_failure must be a list .*\[_noop\]"):
        task(on_failure=_noop)(lambda: None)  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="not callable"):
        flow(on_completion=["not a hook"])(lambda: None)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="on_running"):
        task(on_running=[_noop])(lambda: None)  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="unknown hook option 'on_running'"):
        hook_set("task 'x'", running=False, on_running=[_noop])
    assert not hook_set("task 'x'", on_failure=None)
    assert hook_set("flow 'x'", on_running=(_noop,)).on_running == (_noop,)


def test_the_decorator_form_adds_and_returns_the_hook() -> None:
    @task
    def plain() -> None:
        return None

    assert not plain.hooks
    assert plain.on_failure(_noop) is _noop
    assert plain.hooks == HookSet(on_failure=(_noop,))

    @flow
    def a_flow() -> None:
        return None

    a_flow.on_running(_noop)
    a_flow.on_cancellation(_noop)
    assert a_flow.hooks.on_running == (_noop,) and a_flow.hooks.on_cancellation == (_noop,)
    with pytest.raises(ConfigurationError, match="not callable"):
        a_flow.on_crashed(42)  # type: ignore[type-var]


def test_run_state_follows_prefect_shapes() -> None:
    assert FlowState is RunState
    cached = RunState(S.CACHED, "r1", data=3)
    assert cached.is_completed() and cached.is_final() and cached.result() == 3
    crashed = RunState(S.CRASHED, "r1", exception=RuntimeError("gone"))
    assert crashed.is_crashed() and crashed.is_failed() and not crashed.is_completed()
    assert isinstance(crashed.result(raise_on_failure=False), RuntimeError)
    with pytest.raises(RuntimeError, match="gone"):
        crashed.result()
    assert RunState(S.CANCELLED, "r1").is_cancelled()
    assert RunState(S.RETRYING, "r1").is_running()
    assert not RunState(S.RUNNING, "r1").is_final()


def _handle(definition: Any) -> RunHandle:
    hooks = RunHooks("run-1", "task", "job", definition, parameters_json='{"x": 1}',
                     tags=["t"], task_key="m:job")
    return RunHandle("run-1", "task", RunOptions(), RunFrame("run-1"), on_worker=True,
                     hooks=hooks)


def test_a_cancelled_end_calls_on_cancellation_with_the_run_and_state() -> None:
    seen: list[tuple[Any, RunView, RunState]] = []

    @task(on_cancellation=[lambda d, r, s: seen.append((d, r, s))],
          on_completion=[lambda d, r, s: seen.append((d, r, s))])
    def job(x: int) -> int:
        return x

    change = Transition("run-1", S.CANCELLED, kind="task", message="cancelled by a user")
    fire_final(cast(Runtime, None), _handle(job), change, None, 2)  # written: a worker's end
    [(definition, run, state)] = seen
    assert definition is job and run.state is state and run.attempt == 2
    assert (run.id, run.kind, run.name, run.parameters, run.tags, run.task_key) == (
        "run-1", "task", "job", {"x": 1}, ["t"], "m:job")
    assert (state.name, state.message, state.run_id) == (S.CANCELLED, "cancelled by a user",
                                                         "run-1")


def test_a_hook_that_raises_is_logged_and_the_next_one_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Any] = []

    def broken(definition: Any, run: Any, state: Any) -> None:
        raise ValueError("hook bug")

    async def later(definition: Any, run: Any, state: Any) -> None:  # async hooks are awaited
        seen.append(state.data)

    @task(on_completion=[broken, later])
    def job(x: int) -> int:
        return x

    change = Transition("run-1", S.COMPLETED, kind="task")
    fire_final(cast(Runtime, None), _handle(job), change, Complete("7", 7), 1)
    assert seen == [7]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "run run-1: on_completion hook " in record.getMessage()
    assert "broken raised; the run stays Completed" in record.getMessage()


def test_an_end_that_is_not_final_calls_nothing() -> None:
    seen: list[Any] = []

    @task(on_failure=[lambda d, r, s: seen.append(s)])
    def job() -> None:
        return None

    change = Transition("run-1", S.AWAITING_RETRY, kind="task")
    fire_final(cast(Runtime, None), _handle(job), change, None, 1)
    assert seen == []
