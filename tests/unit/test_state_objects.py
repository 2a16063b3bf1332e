"""The `State` object: Prefect's methods, equality with StateName and Celery's names, the
state constructors, and what a body's returned state decides (pure, no Redis)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tasks_core.engine.outcome import Complete, Ended, Fail, decide
from tasks_core.engine.returned_state import settle_returned
from tasks_core.errors import CancelledRun, FailedRun
from tasks_core.records import RunOptions
from tasks_core.states import (
    CELERY_STATES,
    TERMINAL,
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Running,
    State,
    StateName,
    StateType,
    celery_state,
)

S = StateName
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("name", "celery"), [
    (S.COMPLETED, "SUCCESS"), (S.CACHED, "SUCCESS"), (S.FAILED, "FAILURE"),
    (S.CRASHED, "FAILURE"), (S.TIMED_OUT, "FAILURE"), (S.PENDING, "PENDING"),
    (S.SCHEDULED, "PENDING"), (S.LATE, "PENDING"), (S.RUNNING, "STARTED"),
    (S.AWAITING_RETRY, "RETRY"), (S.RETRYING, "RETRY"), (S.CANCELLED, "REVOKED"),
    (S.CANCELLING, "REVOKED"), (S.PAUSED, "PENDING")])
def test_celery_names_of_every_state(name: StateName, celery: str) -> None:
    assert celery_state(name) == celery
    state = State(name, "r1")
    assert state == celery and state == name and state == name.value
    assert (state != celery) is False and state.celery_state == celery


def test_every_state_name_has_a_celery_name() -> None:
    assert set(CELERY_STATES) == set(StateName)
    with pytest.raises(ValueError):
        celery_state("Bogus")


def test_state_is_a_drop_in_for_its_state_name() -> None:
    state = State(S.COMPLETED, "r1", "done")
    assert state.name is S.COMPLETED and str(state.name) == "Completed"
    assert state.value == "Completed" and f"{state}" == "Completed"
    assert state in TERMINAL and StateName(state) is S.COMPLETED
    assert hash(state) == hash(S.COMPLETED) and {state: 1}[S.COMPLETED] == 1
    assert state != "FAILURE" and state != S.FAILED and state != "Failed"
    assert repr(state) == "Completed(message='done', type=COMPLETED)"
    with pytest.raises(ValueError):
        State("Bogus")


def test_state_predicates_follow_prefect() -> None:
    assert State(S.CACHED).is_completed() and State(S.CACHED).type is StateType.COMPLETED
    assert State(S.TIMED_OUT).is_failed() and State(S.CRASHED).is_failed()
    assert State(S.CRASHED).is_crashed() and not State(S.FAILED).is_crashed()
    assert State(S.RETRYING).is_running() and State(S.AWAITING_RETRY).is_scheduled()
    assert State(S.LATE).is_scheduled() and State(S.PENDING).is_pending()
    assert State(S.CANCELLING).is_cancelling() and State(S.CANCELLED).is_cancelled()
    assert State(S.PAUSED).is_paused()
    assert State(S.CANCELLED).is_final() and not State(S.CANCELLING).is_final()


def test_result_of_states_held_in_process() -> None:
    assert State(S.COMPLETED, data=[1, 2]).result() == [1, 2]
    failed = State(S.FAILED, message="boom", exception=KeyError("k"))
    assert isinstance(failed.result(raise_on_failure=False), KeyError)
    with pytest.raises(KeyError):
        failed.result()
    with pytest.raises(FailedRun, match="went wrong"):
        State(S.FAILED, message="went wrong").result()
    with pytest.raises(CancelledRun):
        State(S.CANCELLED).result()


def test_constructors_make_states_with_message_and_data() -> None:
    done = Completed(message="ok", data={"n": 1})
    assert isinstance(done, State) and done.is_completed() and done.result() == {"n": 1}
    assert done.message == "ok" and done.run_id == "" and done.timestamp is not None
    bad = Failed(message="bad input")
    assert bad.is_failed() and bad.message == "bad input" and bad == "FAILURE"
    exc = ValueError("v")
    assert Failed(data=exc).result(raise_on_failure=False) is exc
    assert Cancelled().is_cancelled() and Crashed().is_crashed() and Running().is_running()
    assert Completed.__name__ == "Completed"


def _decision(value: object) -> Complete | Fail:
    value, ended = settle_returned(value, 0.1)
    if ended is None:
        ended = Ended(ok=True, value=value)
    decision = decide(RunOptions(retries=3), 1, ended, NOW)
    assert isinstance(decision, Complete | Fail), decision  # a returned state never retries
    return decision


def test_a_returned_failed_state_fails_with_its_message_and_is_not_retried() -> None:
    decision = _decision(Failed(message="bad input"))
    assert isinstance(decision, Fail) and decision.state is S.FAILED
    assert decision.message == "bad input" and isinstance(decision.exc, FailedRun)


def test_a_returned_completed_state_completes_with_its_data() -> None:
    decision = _decision(Completed(data=7))
    assert isinstance(decision, Complete) and decision.value == 7
    assert _decision(41) == Complete(None, 41)  # anything else settles as before


@pytest.mark.parametrize(("state", "ends"), [
    (Cancelled(message="stop"), S.CANCELLED), (Crashed(message="gone"), S.CRASHED),
    (Running(), S.FAILED)])
def test_other_returned_states(state: State, ends: StateName) -> None:
    decision = _decision(state)
    assert isinstance(decision, Fail) and decision.state is ends
    if state.is_final():
        assert decision.message == state.message
    else:
        assert "only a final state" in decision.message


def test_has_futures_survives_deep_and_self_holding_arguments() -> None:
    from tasks_core.annotations import quote
    from tasks_core.inputs import has_futures

    deep: list[Any] = []
    node = deep
    for _ in range(10_000):
        node.append([])
        node = node[0]
    looped: list[Any] = [1, "a"]
    looped.append(looped)
    assert not has_futures(deep) and not has_futures(looped)
    assert not has_futures({"a": [1, 2.0, None], "b": (b"x",)})
    node.append(quote(1))
    assert has_futures(deep) and has_futures({"k": {quote([])}})
