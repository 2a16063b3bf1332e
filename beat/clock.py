"""Beat's clocks: wall time for due times, monotonic time for waiting.

Due times (schedules, countdowns, retry delays) are wall-clock instants, so beat compares
them with the wall clock (`now`); how long it sleeps, when it sweeps and how long it keeps
its lock use the monotonic clock (`time.monotonic`, `threading.Event.wait`), which no clock
change moves. What a jump of the wall clock does is told in the README (Clock changes).

Test only: ``BEAT_TEST_CLOCK_OFFSET_SECONDS`` (seconds, may be negative) shifts the wall
clock beat reads, so tests start a real beat as if its host's clock had jumped. Leave it
unset in production.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from tasks_core.store.runs import utcnow

__all__ = ["OFFSET_VARIABLE", "now"]

OFFSET_VARIABLE = "BEAT_TEST_CLOCK_OFFSET_SECONDS"
_OFFSET = timedelta(seconds=float(os.environ.get(OFFSET_VARIABLE) or 0))


def now() -> datetime:
    """The wall clock as beat reads it (aware UTC)."""
    return utcnow() + _OFFSET
