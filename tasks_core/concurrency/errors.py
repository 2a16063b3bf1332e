"""Errors of concurrency limits, named as Prefect names them (prefect.concurrency)."""

from __future__ import annotations

from tasks_core.errors import TasksCoreError

__all__ = ["AcquireConcurrencySlotTimeoutError", "ConcurrencySlotAcquisitionError"]


class ConcurrencySlotAcquisitionError(TasksCoreError):
    """Slots cannot be taken: a limit named with ``strict=True`` does not exist, `occupy` is
    more than a limit has, or `rate_limit` names a limit without slot decay."""


class AcquireConcurrencySlotTimeoutError(TasksCoreError, TimeoutError):
    """The slots were not free within ``timeout_seconds`` (a TimeoutError, as Prefect's)."""
