"""The worker's warning about an evicting Redis (workers/signals.py)."""

from __future__ import annotations

import pytest

from workers.signals import eviction_warning


def test_no_warning_for_noeviction() -> None:
    assert eviction_warning("noeviction") is None


@pytest.mark.parametrize(
    "policy",
    ["allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random",
     "volatile-random", "volatile-ttl", ""],
)
def test_any_other_policy_is_named(policy: str) -> None:
    warning = eviction_warning(policy)
    assert warning is not None
    assert repr(policy) in warning
    assert "noeviction" in warning  # says what to set instead
    assert "configs/redis.conf" in warning
