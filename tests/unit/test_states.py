"""The state machine in tasks_core/states.py: types, terminal states, allowed transitions."""

from __future__ import annotations

from itertools import pairwise

import pytest

from tasks_core.states import (
    CLAIMABLE,
    INITIAL,
    TERMINAL,
    TRANSITIONS,
    StateName,
    StateType,
    allowed_sources,
    can_transition,
    is_terminal,
    state_type,
)

S = StateName


@pytest.mark.parametrize("name", list(StateName))
def test_every_name_has_a_type(name: StateName) -> None:
    assert isinstance(state_type(name), StateType)
    assert state_type(name.value) is state_type(name)


def test_types_of_names_that_share_a_type() -> None:
    assert state_type("Late") is StateType.SCHEDULED
    assert state_type("AwaitingRetry") is StateType.SCHEDULED
    assert state_type("Retrying") is StateType.RUNNING
    assert state_type("Cached") is StateType.COMPLETED
    assert state_type("TimedOut") is StateType.FAILED


def test_unknown_name_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        state_type("Sleeping")
    with pytest.raises(ValueError):
        can_transition("Running", "Sleeping")


def test_every_name_has_a_transition_entry() -> None:
    assert set(TRANSITIONS) == set(StateName)


@pytest.mark.parametrize("name", sorted(TERMINAL))
def test_terminal_states_have_no_outgoing_transitions(name: StateName) -> None:
    assert is_terminal(name)
    assert TRANSITIONS[name] == frozenset()
    assert not any(can_transition(name, target) for target in StateName)


def test_terminal_set() -> None:
    assert {S.COMPLETED, S.CACHED, S.FAILED, S.TIMED_OUT, S.CRASHED, S.CANCELLED} == TERMINAL
    live = set(StateName) - TERMINAL
    assert not any(is_terminal(name) for name in live)
    # every live state can still end somehow
    assert all(TRANSITIONS[name] for name in live)


@pytest.mark.parametrize(
    "path",
    [
        [S.PENDING, S.RUNNING, S.COMPLETED],
        [S.RUNNING, S.AWAITING_RETRY, S.RETRYING, S.COMPLETED],
        [S.SCHEDULED, S.RUNNING],
        [S.SCHEDULED, S.LATE, S.PENDING, S.RUNNING, S.FAILED],
        [S.RUNNING, S.AWAITING_RETRY, S.RETRYING, S.AWAITING_RETRY, S.RETRYING, S.FAILED],
        [S.PENDING, S.CACHED],
        [S.RUNNING, S.TIMED_OUT],
        [S.RUNNING, S.CANCELLING, S.CANCELLED],
        [S.RUNNING, S.PAUSED, S.PENDING, S.RUNNING, S.COMPLETED],
    ],
    ids=lambda path: "->".join(path),
)
def test_typical_paths_are_allowed(path: list[StateName]) -> None:
    for source, target in pairwise(path):
        assert can_transition(source, target), f"{source} -> {target} refused"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.COMPLETED, S.RUNNING),
        (S.FAILED, S.RETRYING),
        (S.CRASHED, S.PENDING),
        (S.CANCELLED, S.RUNNING),
        (S.RUNNING, S.RUNNING),
        (S.PENDING, S.PENDING),
        (S.RUNNING, S.PENDING),
        (S.AWAITING_RETRY, S.COMPLETED),
        (None, S.COMPLETED),
        (None, S.FAILED),
        (None, S.RETRYING),
    ],
)
def test_refused_transitions(source: StateName | None, target: StateName) -> None:
    assert not can_transition(source, target)


def test_runs_are_created_in_initial_states_only() -> None:
    for name in StateName:
        assert can_transition(None, name) == (name in INITIAL)
    assert {S.SCHEDULED, S.PENDING, S.RUNNING} == INITIAL


def test_no_state_transitions_to_itself() -> None:
    for name in StateName:
        assert not can_transition(name, name)


@pytest.mark.parametrize("target", list(StateName))
def test_allowed_sources_agrees_with_transitions(target: StateName) -> None:
    expected = {source for source, targets in TRANSITIONS.items() if target in targets}
    assert allowed_sources(target) == expected
    assert allowed_sources(target.value) == expected
    for source in StateName:
        assert can_transition(source, target) == (source in allowed_sources(target))
    assert not allowed_sources(target) & TERMINAL


@pytest.mark.parametrize("name", sorted(CLAIMABLE))
def test_claimable_states_can_be_claimed(name: StateName) -> None:
    assert not is_terminal(name)
    assert can_transition(name, S.RUNNING) or can_transition(name, S.RETRYING)


def test_a_retry_is_claimed_into_retrying() -> None:
    assert can_transition(S.AWAITING_RETRY, S.RETRYING)
    assert can_transition(S.PENDING, S.RUNNING)
