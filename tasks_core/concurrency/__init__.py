"""Global concurrency limits, rate limits and task tag limits, held in Redis across every
worker and process (Prefect 3's "global concurrency limits", docs.prefect.io/v3).

- `tasks_core.concurrency.sync`: ``with concurrency("db", occupy=1):``, ``rate_limit("api")``
- `tasks_core.concurrency.asyncio`: the same as ``async with`` / ``await``
- `tasks_core.concurrency.limits`: create, read, list, reset and delete limits (the CLI's
  ``tasks-core concurrency-limit ...``)
- `tasks_core.concurrency.slots`: taking, renewing and giving back slots (the one loop both
  spellings and the engine's tag limits use)
- `tasks_core.concurrency.tags`: task runs carrying tag ``db`` wait for a slot of the limit
  ``tag:db`` before each attempt (the engine's hook)
"""

from tasks_core.concurrency.errors import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
)

__all__ = ["AcquireConcurrencySlotTimeoutError", "ConcurrencySlotAcquisitionError"]
