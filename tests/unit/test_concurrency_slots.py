"""The acquisition loop of `tasks_core.concurrency.slots.Acquirer`, with time injected and
a scripted store reply: pauses grow and stay bounded, a rate limit's own wait is used,
timeouts and retry bounds end the wait, impossible requests fail at once (the Redis side is
tested in tests/integration/test_concurrency_limits.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tasks_core.concurrency.errors import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
)
from tasks_core.concurrency.slots import Acquirer, names_of
from tasks_core.concurrency.tags import limit_names
from tasks_core.errors import ValidationError
from tasks_core.store.concurrency_limits import AcquireReply


class Replies:
    """A store whose `acquire` answers from a script, and records releases."""

    def __init__(self, *replies: AcquireReply) -> None:
        self.replies = list(replies)
        self.released: list[list[str]] = []

    def acquire(self, names: list[str], *_: Any) -> AcquireReply:
        return self.replies.pop(0)

    def release(self, names: list[str], lease_id: str) -> int:
        self.released.append(names)
        return len(names)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


WAIT = AcquireReply("wait", 0, ())


def _acquirer(store: Replies, clock: Clock | None = None, **options: Any) -> Acquirer:
    return Acquirer(store, ["db"], 1, "rate_limit", clock=clock or Clock(),  # type: ignore[arg-type]
                    **options)


def test_pauses_grow_and_stay_between_the_bounds() -> None:
    acquirer = _acquirer(Replies(*[WAIT] * 20))
    pauses = [acquirer.try_once() for _ in range(20)]
    assert all(p is not None and 0.04 <= p <= 0.6 for p in pauses), pauses
    assert pauses[0] < 0.1 and pauses[-1] > 0.35  # type: ignore[operator]


def test_a_rate_limits_own_wait_is_used() -> None:
    assert _acquirer(Replies(AcquireReply("wait", 250, ()))).try_once() == 0.25


def test_the_timeout_bounds_the_wait_and_then_raises() -> None:
    clock = Clock()
    acquirer = _acquirer(Replies(AcquireReply("wait", 5000, ()), WAIT), clock,
                         timeout_seconds=1.0)
    assert acquirer.try_once() == 1.0  # never sleeps past the deadline
    clock.now += 1.0
    with pytest.raises(AcquireConcurrencySlotTimeoutError, match=r"not free within 1\.0"):
        acquirer.try_once()


def test_max_retries_bounds_the_refusals() -> None:
    acquirer = _acquirer(Replies(WAIT, WAIT, WAIT), max_retries=2)
    assert acquirer.try_once() is not None and acquirer.try_once() is not None
    with pytest.raises(AcquireConcurrencySlotTimeoutError, match="after 2 retries"):
        acquirer.try_once()


def test_impossible_requests_fail_at_once() -> None:
    with pytest.raises(ConcurrencySlotAcquisitionError, match="cannot take 1 slots of "
                                                             "concurrency limit 'db'"):
        _acquirer(Replies(AcquireReply("too-many", "db", ()))).try_once()
    with pytest.raises(ConcurrencySlotAcquisitionError, match="'db' has none"):
        _acquirer(Replies(AcquireReply("no-decay", "db", ()))).try_once()


def test_strict_refuses_missing_limits_and_gives_back_what_it_took() -> None:
    store = Replies(AcquireReply("ok", 0, ("nowhere",)))
    acquirer = Acquirer(store, ["db", "nowhere"], 1, "concurrency", strict=True)  # type: ignore[arg-type]
    with pytest.raises(ConcurrencySlotAcquisitionError, match=r"\['nowhere'\] must be created"):
        acquirer.try_once()
    assert store.released == [["db"]]


def test_taken_rate_limit_slots_hold_no_lease() -> None:
    acquirer = _acquirer(Replies(AcquireReply("ok", 0, ())))
    assert acquirer.try_once() is None
    assert acquirer.held is not None and acquirer.held.keeper is None
    assert acquirer.held.names == ["db"]


def test_names_and_options_are_checked() -> None:
    assert names_of("db") == ["db"] and names_of(["a", "b", "a"]) == ["a", "b"]
    for bad in ([], [""], [1]):
        with pytest.raises(ValidationError, match="non-empty strings"):
            names_of(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="occupy must be an integer >= 1"):
        Acquirer(Replies(), "db", True, "concurrency")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="lease_duration must be > 0"):
        Acquirer(Replies(), "db", 1, "concurrency", lease_seconds=0)  # type: ignore[arg-type]


def test_tags_no_limit_can_be_named_after_have_none() -> None:
    assert limit_names(["db", "with space", "a:b", "etl"]) == ["tag:db", "tag:etl"]
