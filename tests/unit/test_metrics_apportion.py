"""`apportion`: splitting an exact total by a sample's shares (runs by pool in /metrics)."""

from __future__ import annotations

from tasks_core.store.metrics import UNKNOWN_POOL, apportion


def test_an_exact_sample_is_kept() -> None:
    assert apportion(5, {"a": 3, "b": 2}) == {"a": 3, "b": 2}


def test_parts_always_sum_to_the_total_largest_remainder_first() -> None:
    assert apportion(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert apportion(100_000, {"a": 999, "b": 1}) == {"a": 99_900, "b": 100}
    for total in range(0, 50):
        assert sum(apportion(total, {"x": 7, "y": 3, "z": 1}).values()) == total


def test_nothing_sampled_or_nothing_to_split() -> None:
    assert apportion(4, {}) == {UNKNOWN_POOL: 4}
    assert apportion(0, {"a": 2}) == {}
