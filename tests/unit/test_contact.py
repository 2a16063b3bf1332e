"""RedisContact: when a missing heartbeat may be taken for a dead process (injected time)."""

from __future__ import annotations

from tasks_core.engine.contact import RedisContact


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_trusted_from_the_start_and_while_contact_keeps_its_pace() -> None:
    clock = Clock()
    contact = RedisContact(10.0, 4.0, clock)
    assert contact.trusted()  # a process that never reports judges as before
    for _ in range(20):
        contact.ok()
        clock.now += 2.0
        assert contact.trusted()


def test_a_loss_distrusts_until_contact_held_a_whole_timeout() -> None:
    clock = Clock()
    contact = RedisContact(10.0, 4.0, clock)
    contact.ok()
    contact.lost()
    assert not contact.trusted()
    clock.now += 30.0
    assert not contact.trusted()  # still away: no success since
    contact.ok()  # back at 130: trusted from 140
    for _ in range(4):
        clock.now += 2.0
        contact.ok()
    clock.now += 1.9
    assert not contact.trusted()
    clock.now += 0.1
    assert contact.trusted()


def test_a_gap_longer_than_allowed_is_a_loss_though_nothing_failed() -> None:
    clock = Clock()
    contact = RedisContact(10.0, 4.0, clock)
    contact.ok()
    clock.now += 4.0  # at the bound: still contact
    contact.ok()
    assert contact.trusted()
    clock.now += 4.5  # a stall (Redis or this process paused)
    contact.ok()
    assert not contact.trusted()
    clock.now += 10.0
    assert contact.trusted()


def test_a_loss_during_the_wait_starts_it_again() -> None:
    clock = Clock()
    contact = RedisContact(10.0, 4.0, clock)
    contact.ok()
    contact.lost()
    contact.ok()
    clock.now += 8.0
    contact.lost()
    clock.now += 1.0
    contact.ok()
    clock.now += 9.0
    assert not contact.trusted()
    clock.now += 1.0
    assert contact.trusted()
