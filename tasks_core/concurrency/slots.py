"""Taking, holding and giving back slots of concurrency limits: the one loop that
`concurrency`, `rate_limit` (sync and async) and the engine's tag limits use.

An acquisition takes `occupy` slots of every named limit at once, or none
(concurrency_acquire.lua), and tries again until they are free: after the time a rate
limit says its slots come back, else after a short growing pause (50 ms up to 0.5 s,
jittered, so waiters do not poll in step). Slots held by ``concurrency(...)`` sit under a
lease of `lease_seconds`, renewed by a `LeaseKeeper` thread every third of it while the
block runs: a process that dies stops renewing and its slots come back when the lease
expires. `rate_limit` slots have no lease: they decay.

Names that are not limits: with ``strict=True`` an error (nothing is held), else the block
proceeds without them and a warning is logged, as Prefect 3 does.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tasks_core.concurrency.errors import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
)
from tasks_core.errors import ValidationError
from tasks_core.store.concurrency_limits import ConcurrencyLimitStore, Mode

__all__ = ["Acquirer", "Held", "LeaseKeeper", "names_of"]

log = logging.getLogger("tasks_core.concurrency")

_FIRST_PAUSE = 0.05
_MAX_PAUSE = 0.5


def names_of(names: str | list[str]) -> list[str]:
    """`names` as a list of distinct names (one name may be given as a string)."""
    listed = [names] if isinstance(names, str) else list(names)
    if not listed or not all(isinstance(n, str) and n for n in listed):
        raise ValidationError(f"concurrency limit names must be non-empty strings, got "
                              f"{names!r}")
    return list(dict.fromkeys(listed))


class LeaseKeeper(threading.Thread):
    """Renews a lease every third of its length until `stop()` (a daemon thread)."""

    def __init__(self, store: ConcurrencyLimitStore, names: list[str], lease_id: str,
                 lease_ms: int) -> None:
        super().__init__(name=f"tasks-core-lease-{lease_id[:8]}", daemon=True)
        self.store, self.names, self.lease_id, self.lease_ms = store, names, lease_id, lease_ms
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.lease_ms / 3000):
            try:
                kept = self.store.renew(self.names, self.lease_id, self.lease_ms)
            except Exception as exc:  # Redis away: try again next time, the lease may hold
                log.warning("lease %s on %s not renewed: %s", self.lease_id, self.names, exc)
                continue
            if kept < len(self.names):
                log.warning("lease %s on concurrency limits %s was lost (expired, reset or "
                            "deleted): its slots are no longer held", self.lease_id,
                            self.names)
                return

    def stop(self) -> None:
        self._stopped.set()


@dataclass
class Held:
    """Slots taken: the limits that exist among those named, under lease `lease_id`."""

    store: ConcurrencyLimitStore
    names: list[str]
    lease_id: str
    mode: Mode
    keeper: LeaseKeeper | None = None
    released: bool = field(default=False)

    def release(self) -> None:
        """Give the slots back (``concurrency`` only; rate-limit slots decay). Idempotent."""
        if self.released:
            return
        self.released = True
        if self.keeper is not None:
            self.keeper.stop()
        if self.mode == "concurrency" and self.names:
            self.store.release(self.names, self.lease_id)


class Acquirer:
    """One acquisition: `try_once()` until it returns None, then `held` is set.

    Args:
        store: the limits' store.
        names: the limits (all taken at once).
        occupy: slots of each (>= 1).
        mode: ``concurrency`` (under a lease) or ``rate_limit`` (decaying).
        timeout_seconds: give up after this long (AcquireConcurrencySlotTimeoutError);
            None waits as long as it takes.
        max_retries: give up after this many refusals (the same error); None: no bound.
        lease_seconds: the lease's length (``concurrency`` only), renewed while held.
        strict: names that are not limits are an error instead of a warning.
        clock: monotonic seconds (tests inject one).
    """

    def __init__(self, store: ConcurrencyLimitStore, names: str | list[str], occupy: int,
                 mode: Mode, *, timeout_seconds: float | None = None,
                 max_retries: int | None = None, lease_seconds: float = 300,
                 strict: bool = False, quiet: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(occupy, bool) or not isinstance(occupy, int) or occupy < 1:
            raise ValidationError(f"occupy must be an integer >= 1, got {occupy!r}")
        if lease_seconds <= 0:
            raise ValidationError(f"lease_duration must be > 0 seconds, got {lease_seconds!r}")
        self.store, self.names, self.occupy, self.mode = store, names_of(names), occupy, mode
        self.strict, self.quiet, self.clock = strict, quiet, clock
        self.max_retries = max_retries
        self.deadline = None if timeout_seconds is None else clock() + timeout_seconds
        self.timeout_seconds = timeout_seconds
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.lease_id = uuid.uuid4().hex
        self.refusals = 0
        self.held: Held | None = None

    def try_once(self) -> float | None:
        """Try to take the slots: None when taken (`held`), else seconds to wait before
        trying again. Raises the errors named in the class docstring."""
        reply = self.store.acquire(self.names, self.lease_id, self.occupy, self.lease_ms,
                                   self.mode)
        if reply.status == "too-many":
            raise ConcurrencySlotAcquisitionError(
                f"cannot take {self.occupy} slots of concurrency limit {reply.detail!r}: it "
                "has fewer (see `tasks-core concurrency-limit inspect`)")
        if reply.status == "no-decay":
            raise ConcurrencySlotAcquisitionError(
                f"rate_limit needs limits with slot decay: {reply.detail!r} has none "
                "(create it with --slot-decay-per-second)")
        if reply.status == "ok":
            self._taken(list(reply.missing))
            return None
        self.refusals += 1
        return self._pause(int(reply.detail))

    def _taken(self, missing: list[str]) -> None:
        taken = [n for n in self.names if n not in missing]
        self.held = Held(self.store, taken, self.lease_id, self.mode)
        if missing and self.strict:
            self.held.release()
            raise ConcurrencySlotAcquisitionError(
                f"concurrency limits {missing} must be created before acquiring slots "
                "(`tasks-core concurrency-limit create NAME LIMIT`)")
        if missing and not self.quiet:
            log.warning("concurrency limits %s do not exist: proceeding without them "
                        "(strict=True refuses instead)", missing)
        if self.mode == "concurrency" and taken:
            self.held.keeper = LeaseKeeper(self.store, taken, self.lease_id, self.lease_ms)
            self.held.keeper.start()

    def _pause(self, retry_ms: int) -> float:
        if self.max_retries is not None and self.refusals > self.max_retries:
            raise AcquireConcurrencySlotTimeoutError(
                f"slots of concurrency limits {self.names} not free after "
                f"{self.max_retries} retries")
        step = min(_MAX_PAUSE, _FIRST_PAUSE * 1.5 ** min(self.refusals, 10))
        pause = retry_ms / 1000 if retry_ms > 0 else step * random.uniform(0.8, 1.2)
        if self.deadline is not None:
            left = self.deadline - self.clock()
            if left <= 0:
                raise AcquireConcurrencySlotTimeoutError(
                    f"slots of concurrency limits {self.names} not free within "
                    f"{self.timeout_seconds} seconds")
            pause = min(pause, left)
        return max(pause, 0.001)
