"""Retention policy (tasks_core/retention.py, pure): which TTL a run gets by the state it
ended in, and the cut-offs beat's pruning uses, with injected time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tasks_core.retention import (
    idempotency_ttl,
    run_ttl,
    runs_cutoff,
    shortest_ttl,
    state_cutoffs,
)
from tasks_core.settings import Settings
from tasks_core.states import TERMINAL, StateName

NOW = 1_800_000_000.0


def _settings(done: int = 86_400, failed: int = 604_800) -> Settings:
    return Settings(run_ttl_seconds=done, failed_run_ttl_seconds=failed)


def test_defaults_keep_finished_runs_a_day_and_failed_ones_a_week() -> None:
    fields = Settings.model_fields
    assert fields["run_ttl_seconds"].default == 86_400  # Celery's result_expires
    assert fields["failed_run_ttl_seconds"].default == 7 * 86_400


@pytest.mark.parametrize(("state", "ttl"), [
    (StateName.COMPLETED, 10), (StateName.CACHED, 10), (StateName.CANCELLED, 10),
    (StateName.FAILED, 99), (StateName.TIMED_OUT, 99), (StateName.CRASHED, 99)])
def test_the_ttl_follows_the_terminal_state(state: StateName, ttl: int) -> None:
    assert run_ttl(_settings(done=10, failed=99), state) == ttl
    assert run_ttl(_settings(done=10, failed=99), state.value) == ttl  # a plain name too


@pytest.mark.parametrize("state", sorted(set(StateName) - TERMINAL))
def test_a_state_that_is_not_terminal_has_no_ttl(state: StateName) -> None:
    with pytest.raises(ValueError, match=f"{state.value!r} is not terminal"):
        run_ttl(_settings(), state)


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="Finished"):
        run_ttl(_settings(), "Finished")


def test_state_cutoffs_are_now_less_each_terminal_states_ttl() -> None:
    cutoffs = state_cutoffs(_settings(done=10, failed=99), NOW)
    assert set(cutoffs) == TERMINAL
    assert cutoffs[StateName.COMPLETED] == NOW - 10
    assert cutoffs[StateName.CANCELLED] == NOW - 10
    assert cutoffs[StateName.CRASHED] == NOW - 99
    assert cutoffs[StateName.TIMED_OUT] == NOW - 99


@pytest.mark.parametrize(("done", "failed"), [(10, 99), (99, 10)])
def test_runs_cutoff_uses_the_shortest_ttl(done: int, failed: int) -> None:
    settings = _settings(done=done, failed=failed)
    assert shortest_ttl(settings) == 10
    assert runs_cutoff(settings, NOW) == NOW - 10


def test_an_idempotency_key_outlives_the_wait_for_its_scheduled_time() -> None:
    settings = _settings(done=10, failed=99)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert idempotency_ttl(settings, now) == 99  # the longer TTL
    assert idempotency_ttl(settings, now, now - timedelta(hours=1)) == 99  # already due
    assert idempotency_ttl(settings, now, now + timedelta(days=3)) == 99 + 3 * 86_400
    assert idempotency_ttl(_settings(done=500, failed=20), now) == 500
