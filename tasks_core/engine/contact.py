"""Whether this process may take a missing heartbeat for a dead process.

A worker process proves it is alive by refreshing a key with a TTL
(`heartbeat_timeout_seconds`, `workers.heartbeat`); beat's sweeper and a worker that is
handed a run Running under another process recover that run when its owner's key is gone
(`engine.recovery.owner_alive`). When Redis itself was away (a restart, a failover, a
network cut, a stall) every key may have lapsed while its process lived and could not
write: judged then, every run in flight would be retried or Crashed while it still runs.

So a process that reads heartbeats also watches its own contact with Redis
(`RedisContact`): each successful round trip of its regular loop is reported (`ok`), and
a failed one too (`lost`). After a failure, or a gap between successes longer than the
loop's own period allows (a stall: Redis or this process paused), a missing heartbeat is
not taken for a death until contact has held for a whole heartbeat timeout again, time for
every live process to write its key once more. Until then such an owner is judged alive
(its run is left for a later sweep; a process on this host is still judged by its pid).

A process that reports contact starts distrusting, for a heartbeat timeout from its first
report: it may have started just after an outage (restarted with Redis, a new pool
process). A stall is also seen while it lasts: no report for longer than the gap allows is
distrusted at once, before the late report comes. A process that never reports (a script
calling the sweeper, the API server) judges heartbeats as they are, as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RedisContact"]


class RedisContact:
    """This process's contact with Redis, as its regular loop sees it.

    `timeout_s`: how long contact must hold after a loss before missing heartbeats count
    (the heartbeat timeout, seconds). `period_s`: how often the process's loop reports
    (seconds); a gap of more than twice that between two reports is a loss, but never more
    than half the timeout (`set_period`). `clock`: monotonic seconds (injected in tests).
    Thread-safe.
    """

    def __init__(self, timeout_s: float, period_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self.gap_s = 0.0
        self.set_period(period_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._last_ok: float | None = None
        self._lost = False
        self._trusted_from = float("-inf")

    def set_period(self, period_s: float) -> None:
        """The process's loop reports every `period_s` seconds (beat's differs from a
        worker process's heartbeat)."""
        self.gap_s = min(2 * period_s, self.timeout_s / 2)

    def ok(self) -> None:
        """A round trip to Redis succeeded now."""
        with self._lock:
            now = self._clock()
            last = self._last_ok
            if last is None or self._lost or now - last > self.gap_s:
                self._trusted_from = now + self.timeout_s
                self._lost = False
            self._last_ok = now

    def took(self, seconds: float) -> None:
        """A round trip of this process's took `seconds`: longer than the gap allows is a
        stall, a loss (in a process that reports contact; one that does not ignores it)."""
        with self._lock:
            if self._last_ok is not None and seconds > self.gap_s:
                self._lost = True

    def lost(self) -> None:
        """A round trip to Redis failed (it could not be reached, or gave up)."""
        with self._lock:
            self._lost = True

    def trusted(self) -> bool:
        """Whether a missing heartbeat may be taken for a dead process now: no loss since
        the last report, no report overdue (a stall now), and contact has held for
        `timeout_s` since the first report and since the last loss. Always, in a process
        that never reports."""
        with self._lock:
            if self._last_ok is None:
                return not self._lost
            now = self._clock()
            return (not self._lost and now - self._last_ok <= self.gap_s
                    and now >= self._trusted_from)
