"""The claim-ahead window (`tasks_core.engine.claim_ahead.next_window`): pure logic with
the pace given."""

from __future__ import annotations

from tasks_core.engine.claim_ahead import CLAIM_AHEAD_BUDGET_S, next_window


def test_short_runs_double_the_window_up_to_the_setting() -> None:
    window, sizes = 1, []
    for _ in range(7):
        window = next_window(window, window, window * 0.0001, most=16)
        sizes.append(window)
    assert sizes == [2, 4, 8, 16, 16, 16, 16]


def test_no_more_runs_than_fit_in_the_budget_at_the_last_pace() -> None:
    pace = CLAIM_AHEAD_BUDGET_S / 5.5
    assert next_window(8, 8, 8 * pace, most=16) == 5
    assert next_window(2, 2, 2 * pace, most=16) == 4  # still at most twice


def test_a_run_slower_than_the_budget_brings_it_back_to_one() -> None:
    assert next_window(16, 1, CLAIM_AHEAD_BUDGET_S, most=16) == 1
    assert next_window(16, 16, 16 * CLAIM_AHEAD_BUDGET_S * 2, most=16) == 1
    assert next_window(1, 1, 0.5, most=16) == 1


def test_one_means_off_and_a_window_where_nothing_ran_keeps_its_size() -> None:
    assert next_window(1, 1, 0.0, most=1) == 1
    assert next_window(8, 0, 0.0, most=16) == 8
    assert next_window(1, 1, 0.0, most=16) == 2  # too fast to time: doubles
