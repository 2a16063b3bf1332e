"""Whether a worker sends task events, read from its consumer's event dispatcher."""

from __future__ import annotations

from types import SimpleNamespace

from workers.celery_view import sends_task_events


def _consumer(enabled: bool, groups: set[str] | None) -> SimpleNamespace:
    return SimpleNamespace(event_dispatcher=SimpleNamespace(enabled=enabled, groups=groups))


def test_a_worker_without_e_sends_only_worker_events() -> None:
    assert not sends_task_events(_consumer(True, {"worker"}))


def test_enable_events_adds_the_task_group() -> None:
    assert sends_task_events(_consumer(True, {"worker", "task"}))


def test_no_groups_means_every_event() -> None:
    assert sends_task_events(_consumer(True, None))
    assert sends_task_events(_consumer(True, set()))


def test_a_disabled_dispatcher_or_none_sends_nothing() -> None:
    assert not sends_task_events(_consumer(False, None))
    assert not sends_task_events(SimpleNamespace(event_dispatcher=None))
    assert not sends_task_events(SimpleNamespace())
