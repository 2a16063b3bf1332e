"""Counters of the demo's tasks (`p:demo:<name>`): `flaky_fetch` counts its attempts."""

from __future__ import annotations

from tasks_core.store.base import KeyedStore

__all__ = ["DemoCounters"]


class DemoCounters(KeyedStore):
    """Named counters shared by every process of the demo."""

    def increment(self, name: str) -> int:
        """Add one to the counter `name`; its new value (1 the first time)."""
        return int(self.client.incr(self.keys.demo_counter(name)))
