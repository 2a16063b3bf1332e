"""RedisContact: when a missing heartbeat may be taken for a dead process (injected time)."""

from __future__ import annotations

from tasks_core.engine.contact import RedisContact


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _steady(contact: RedisContact, clock: Clock, seconds: float, step: float = 2.0) -> None:
    """Report every `step` seconds (the last step shorter) for `seconds`."""
    end = clock.now + seconds
    while clock.now < end:
        clock.now = min(clock.now + step, end)
        contact.ok()


def test_a_process_that_never_reports_trusts_heartbeats_as_they_are() -> None:
    contact = RedisContact(10.0, 2.0, Clock())
    assert contact.trusted()
    contact.took(60.0)  # it does not watch its contact: nothing changes
    assert contact.trusted()


def test_a_reporting_process_trusts_a_timeout_after_its_first_report() -> None:
    """It may have started just after an outage (restarted with Redis)."""
    clock = Clock()
    contact = RedisContact(10.0, 2.0, clock)
    contact.ok()
    assert not contact.trusted()
    _steady(contact, clock, 9.0)
    clock.now += 0.9
    assert not contact.trusted()
    clock.now += 0.1
    assert contact.trusted()
    _steady(contact, clock, 60.0)
    assert contact.trusted()


def test_a_loss_distrusts_until_contact_held_a_whole_timeout() -> None:
    clock = Clock()
    contact = RedisContact(10.0, 2.0, clock)
    contact.ok()
    _steady(contact, clock, 12.0)
    assert contact.trusted()
    contact.lost()
    assert not contact.trusted()
    clock.now += 30.0  # still away: no report since
    assert not contact.trusted()
    contact.ok()  # back: trusted 10 s from now
    _steady(contact, clock, 8.0)
    clock.now += 1.9
    assert not contact.trusted()
    clock.now += 0.1
    assert contact.trusted()


def test_a_stall_is_distrusted_while_it_lasts_and_a_timeout_after() -> None:
    clock = Clock()
    contact = RedisContact(10.0, 2.0, clock)  # a report every 2 s: a gap over 4 s is a loss
    contact.ok()
    _steady(contact, clock, 12.0)
    clock.now += 4.0  # at the bound
    assert contact.trusted()
    clock.now += 0.5  # overdue: stalled now (Redis or this process paused)
    assert not contact.trusted()
    contact.ok()  # the late report
    _steady(contact, clock, 9.0)
    assert not contact.trusted()
    clock.now += 1.0
    assert contact.trusted()


def test_a_slow_round_trip_of_the_judge_is_a_loss() -> None:
    clock = Clock()
    contact = RedisContact(10.0, 2.0, clock)
    contact.ok()
    _steady(contact, clock, 12.0)
    contact.took(1.0)
    assert contact.trusted()
    contact.took(4.5)
    assert not contact.trusted()
    contact.ok()
    _steady(contact, clock, 10.0)
    assert contact.trusted()


def test_the_gap_is_twice_the_period_at_most_half_the_timeout() -> None:
    contact = RedisContact(10.0, 2.0)
    assert contact.gap_s == 4.0
    contact.set_period(1.0)  # beat's
    assert contact.gap_s == 2.0
    contact.set_period(30.0)
    assert contact.gap_s == 5.0
