"""``from tasks_core.concurrency.sync import concurrency, rate_limit``: Prefect's
`prefect.concurrency.sync`, with limits held in Redis across every worker and process.

    with concurrency("db", occupy=1, timeout_seconds=30):
        ...                      # at most `limit` blocks hold slots of "db" at once

    rate_limit("api")            # waits until the token bucket of "api" has a slot

Semantics (docs.prefect.io/v3, global concurrency limits): `concurrency` takes `occupy`
slots of each named limit (all at once), holds them for the block and gives them back at
its end, also when the block raises; a holder that dies frees them when its lease
(`lease_duration` seconds, renewed while the block runs) expires. `rate_limit` needs limits
with ``slot_decay_per_second`` and never gives slots back: they decay. A name that is not a
limit is skipped with a warning, or refused with ``strict=True``
(`ConcurrencySlotAcquisitionError`). Waiting longer than `timeout_seconds` raises
`AcquireConcurrencySlotTimeoutError` (a TimeoutError); asking for more slots than a limit
has raises `ConcurrencySlotAcquisitionError` at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tasks_core.concurrency.errors import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
)
from tasks_core.concurrency.slots import Acquirer, Held
from tasks_core.store.concurrency_limits import ConcurrencyLimitStore

__all__ = ["AcquireConcurrencySlotTimeoutError", "ConcurrencySlotAcquisitionError",
           "concurrency", "rate_limit"]


def _store() -> ConcurrencyLimitStore:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().concurrency_limits


def _acquire(acquirer: Acquirer) -> Held:
    while (pause := acquirer.try_once()) is not None:
        time.sleep(pause)
    assert acquirer.held is not None  # try_once returned None: taken
    return acquirer.held


@contextmanager
def concurrency(names: str | list[str], occupy: int = 1, timeout_seconds: float | None = None,
                max_retries: int | None = None, lease_duration: float = 300,
                strict: bool = False, holder: Any = None,
                suppress_warnings: bool = False) -> Iterator[None]:
    """Hold `occupy` slots of each limit in `names` for the block (see the module).

    Args:
        names: a limit's name, or several (taken together).
        occupy: slots of each.
        timeout_seconds: how long to wait for them (None: as long as it takes).
        max_retries: refusals to accept before giving up (None: no bound).
        lease_duration: seconds a dead holder keeps the slots (renewed while alive).
        strict: a name that is not a limit raises instead of being skipped.
        holder: accepted for Prefect compatibility (not recorded).
        suppress_warnings: no warning for names that are not limits.

    Raises:
        AcquireConcurrencySlotTimeoutError: not free in time.
        ConcurrencySlotAcquisitionError: see the module.
    """
    held = _acquire(Acquirer(_store(), names, occupy, "concurrency",
                             timeout_seconds=timeout_seconds, max_retries=max_retries,
                             lease_seconds=lease_duration, strict=strict,
                             quiet=suppress_warnings))
    try:
        yield
    finally:
        held.release()


def rate_limit(names: str | list[str], occupy: int = 1, timeout_seconds: float | None = None,
               strict: bool = False) -> None:
    """Wait until `occupy` slots of each rate limit in `names` are free and take them (they
    come back at the limit's slot_decay_per_second). Raises as `concurrency` does, and
    ConcurrencySlotAcquisitionError for a limit without slot decay."""
    _acquire(Acquirer(_store(), names, occupy, "rate_limit", timeout_seconds=timeout_seconds,
                      strict=strict))
