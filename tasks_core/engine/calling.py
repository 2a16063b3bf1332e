"""Celery's calling options of `apply_async` and `send_task`, validated in one place.

Semantics are Celery's (docs.celeryq.dev, userguide/calling), with the ledger's guarantees:

- ``task_id``: the run id. Celery accepts any string; here it also keys Redis, so it must be
  1..200 characters of letters, digits and ``-_.:@`` (`check_task_id`). A run that exists
  already under that id is returned, not created again: the id is an idempotency key (Celery
  would send a second message with the same id).
- ``expires``: seconds from now, a `datetime` (naive: UTC) or a `timedelta`. A run not
  started by then ends Cancelled with the message ``expired`` (Celery revokes it): checked
  by the worker's claim (`engine.claim`) and by beat's sweeper for runs that sit queued.
- ``headers``: a JSON object of extra message headers, recorded on the run (``headers`` of
  the record, shown by ``tasks-core task-run inspect``) and sent in the Celery message.
- ``shadow``: the name logs, events and Flower show for the run (Celery's shadow name).
- ``retry`` / ``retry_policy``: retry publishing when Redis cannot be reached (Celery's
  defaults: retry on, ``max_retries`` 3, ``interval_start`` 0, ``interval_step`` 0.2,
  ``interval_max`` 0.2 seconds). Writing a run is idempotent by id, so a retry never makes
  two runs.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from tasks_core.errors import StoreUnavailable, ValidationError

__all__ = [
    "HEADERS_MAX_BYTES",
    "CallOptions",
    "RetryPolicy",
    "check_task_id",
    "expires_at",
    "with_retries",
]

T = TypeVar("T")

_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}")
HEADERS_MAX_BYTES = 8192
"""Most bytes of JSON the ``headers=`` of one call may take."""

_RESERVED_HEADERS = frozenset({
    "lang", "task", "id", "shadow", "eta", "expires", "group", "group_index", "retries",
    "timelimit", "root_id", "parent_id", "argsrepr", "kwargsrepr", "origin", "ignore_result",
    "replaced_task_nesting", "stamped_headers", "stamps", "tc_task", "tc_rate_reserved"})
"""Celery's own protocol-2 headers: a custom header may not replace them."""


def check_task_id(value: object) -> str:
    """A caller-given task id, checked.

    Raises:
        ValidationError: not a string of 1..200 letters, digits or ``-_.:@`` starting with
            a letter or digit.
    """
    if not isinstance(value, str) or not _TASK_ID.fullmatch(value):
        raise ValidationError(
            f"task_id {value!r} is not a valid run id: give 1..200 characters of letters, "
            "digits and -_.:@, starting with a letter or digit (e.g. str(uuid.uuid4()))")
    return value


def expires_at(value: object, now: datetime) -> datetime:
    """The UTC time `expires` names: seconds after `now`, a datetime (naive: UTC), or a
    timedelta after `now`.

    Raises:
        ValidationError: any other type, or a number that is not finite.
    """
    if isinstance(value, bool):
        raise ValidationError(f"expires must be seconds, a datetime or a timedelta, got {value!r}")
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError(f"expires must be a finite number of seconds, got {value!r}")
        return now + timedelta(seconds=value)
    if isinstance(value, timedelta):
        return now + value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    raise ValidationError(
        f"expires must be seconds, a datetime or a timedelta, got {type(value).__name__}")


def _check_headers(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValidationError(f"headers must be a dict with string keys, got {value!r:.80}")
    clash = sorted(_RESERVED_HEADERS.intersection(value))
    if clash:
        raise ValidationError(f"headers {clash} are Celery's own message headers; use other "
                              "names")
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"headers must be JSON (strings, numbers, lists, dicts): {exc}"
                              ) from None
    if len(text.encode()) > HEADERS_MAX_BYTES:
        raise ValidationError(f"headers take {len(text.encode())} bytes of JSON, more than "
                              f"{HEADERS_MAX_BYTES}")
    return dict(value)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Celery's publish retry policy (seconds): the delay before retry n (0-based) is
    ``min(interval_start + n * interval_step, interval_max)``."""

    max_retries: int | None = 3
    interval_start: float = 0.0
    interval_step: float = 0.2
    interval_max: float = 0.2

    @classmethod
    def of(cls, value: object) -> RetryPolicy:
        """From ``retry_policy=`` (None: Celery's defaults).

        Raises:
            ValidationError: an unknown key or a negative number.
        """
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise ValidationError(f"retry_policy must be a dict, got {value!r:.80}")
        known = {"max_retries", "interval_start", "interval_step", "interval_max",
                 "retry_errors"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValidationError(f"retry_policy has unknown keys {unknown} (known: "
                                  f"{sorted(known)})")
        fields = {k: v for k, v in value.items() if k != "retry_errors"}
        if any(v is not None and (not isinstance(v, int | float) or v < 0)
               for v in fields.values()):
            raise ValidationError(f"retry_policy values must be numbers >= 0, got {fields}")
        return cls(**fields)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry `retry` (0-based)."""
        return min(self.interval_start + retry * self.interval_step, self.interval_max)


def with_retries(call: Callable[[], T], retry: bool, policy: RetryPolicy,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """`call()`, called again after the policy's delay while Redis cannot be reached
    (StoreUnavailable) and retries are left; then the last StoreUnavailable is raised."""
    attempt = 0
    while True:
        try:
            return call()
        except StoreUnavailable:
            limit = policy.max_retries
            if not retry or (limit is not None and attempt >= limit):
                raise
            sleep(policy.delay(attempt))
            attempt += 1


@dataclass(frozen=True, slots=True)
class CallOptions:
    """The checked calling options of one `apply_async` / `send_task`.

    Attributes:
        task_id: the run id to use (None: a new uuid4).
        expires: when an unstarted run expires (UTC), or None.
        headers: extra message headers, recorded on the run.
        shadow: the name shown in logs and Flower (None: the task's name).
        retry, retry_policy: retrying the publish when Redis cannot be reached.
    """

    task_id: str | None = None
    expires: datetime | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    shadow: str | None = None
    retry: bool = True
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def of(cls, *, task_id: object = None, expires: object = None, headers: object = None,
           shadow: object = None, retry: object = None, retry_policy: object = None,
           now: datetime | None = None) -> CallOptions:
        """Check the options as given to `apply_async`.

        Raises:
            ValidationError: naming the option that is wrong and what it takes.
        """
        now = now or datetime.now(UTC)
        if shadow is not None and (not isinstance(shadow, str) or not shadow.strip()
                                   or len(shadow) > 200):
            raise ValidationError(f"shadow must be a non-empty name of at most 200 "
                                  f"characters, got {shadow!r:.80}")
        if retry is not None and not isinstance(retry, bool):
            raise ValidationError(f"retry must be True or False, got {retry!r}")
        return cls(
            task_id=None if task_id is None else check_task_id(task_id),
            expires=None if expires is None else expires_at(expires, now),
            headers=_check_headers(headers),
            shadow=shadow,
            retry=True if retry is None else retry,
            retry_policy=RetryPolicy.of(retry_policy),
        )
