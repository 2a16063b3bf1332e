"""Concurrency limits as records: create, read, list, reset, delete (what
``tasks-core concurrency-limit ...`` and the SDK call).

A limit has a name, `limit` slots and an optional `slot_decay_per_second` (a rate limit:
taken slots come back at that rate, Prefect's token bucket). A task tag limit is the limit
named ``tag:<tag>`` (as Prefect 3 stores tag limits among its global limits): task runs
carrying that tag take one of its slots per attempt (`tasks_core.concurrency.tags`).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from pydantic import BaseModel

from tasks_core.errors import NotFoundError, ValidationError
from tasks_core.store.concurrency_limits import ConcurrencyLimitStore

__all__ = ["NAME_MAX_CHARS", "TAG_PREFIX", "ConcurrencyLimit", "ConcurrencyLimitNotFound",
           "check_limit_name", "create_limit", "delete_limit", "list_limits", "read_limit",
           "reset_limit", "tag_limit_name"]

NAME_MAX_CHARS = 200
TAG_PREFIX = "tag:"
"""The name of a task tag limit is this prefix and the tag."""

_BANNED = re.compile(r"[/%&<>:\s\x00-\x1f]")  # Prefect bans / % & > <; ':' is ours (keys)


class ConcurrencyLimitNotFound(NotFoundError):
    """No concurrency limit has this name."""


class ConcurrencyLimit(BaseModel):
    """A concurrency limit as `tasks-core concurrency-limit inspect` shows it.

    Attributes:
        name: its name (``tag:<tag>`` for a task tag limit).
        limit: slots it has.
        slot_decay_per_second: slots that come back per second (0: none; they come back
            when their holder gives them back or its lease expires).
        active_slots: slots taken now (with decay, a fraction while they come back).
        holders: leases holding slots now (``concurrency(...)`` blocks, task attempts).
        denied_slots: slots asked for and refused (each wait counts), since the last reset.
        created: when it was created (UTC).
    """

    name: str
    limit: int
    slot_decay_per_second: float = 0.0
    active_slots: float = 0.0
    holders: int = 0
    denied_slots: int = 0
    created: datetime | None = None

    @property
    def tag(self) -> str | None:
        """The tag of a task tag limit, else None."""
        return self.name.removeprefix(TAG_PREFIX) if self.name.startswith(TAG_PREFIX) else None

    @property
    def slots_in_use(self) -> int:
        """`active_slots` rounded up (a slot decaying is still in use)."""
        return math.ceil(self.active_slots - 1e-9)


def tag_limit_name(tag: str) -> str:
    """The name of the limit of task tag `tag` (``tag:<tag>``)."""
    check_limit_name(tag, what="tag")
    return f"{TAG_PREFIX}{tag}"


def check_limit_name(name: str, *, what: str = "concurrency limit name") -> str:
    """`name` when valid (1 to 200 characters, none of ``/ % & < > :``, no spaces or control
    characters; a ``tag:`` start is allowed); else ValidationError naming the rule."""
    bare = name.removeprefix(TAG_PREFIX) if what != "tag" else name
    if not isinstance(name, str) or not bare or len(name) > NAME_MAX_CHARS \
            or _BANNED.search(bare):
        raise ValidationError(f"{what} {name!r} is not valid: use 1 to {NAME_MAX_CHARS} "
                              "characters without spaces or any of / % & < > :")
    return name


def _store() -> ConcurrencyLimitStore:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().concurrency_limits


def create_limit(name: str, limit: int, *, slot_decay_per_second: float = 0.0) -> \
        ConcurrencyLimit:
    """Create a limit of `limit` slots (>= 1); `slot_decay_per_second` > 0 makes it a rate
    limit. Raises ValidationError for a bad name, limit or decay, or a name that exists."""
    check_limit_name(name)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError(f"concurrency limit {name!r}: limit must be an integer >= 1, "
                              f"got {limit!r}")
    if not math.isfinite(slot_decay_per_second) or slot_decay_per_second < 0:
        raise ValidationError(f"concurrency limit {name!r}: slot_decay_per_second must be "
                              f">= 0, got {slot_decay_per_second!r}")
    now = datetime.now(UTC)
    if not _store().create(name, limit, slot_decay_per_second, now.isoformat()):
        raise ValidationError(f"concurrency limit {name!r} already exists (delete it first "
                              "to change it)")
    return ConcurrencyLimit(name=name, limit=limit, slot_decay_per_second=slot_decay_per_second,
                            created=now)


def read_limit(name: str) -> ConcurrencyLimit:
    """The limit `name`, settled now (expired leases and decayed slots given back).

    Raises ConcurrencyLimitNotFound."""
    fields = _store().read(name)
    if fields is None:
        raise ConcurrencyLimitNotFound(f"concurrency limit {name!r} not found (see "
                                       "`tasks-core concurrency-limit ls`)")
    return ConcurrencyLimit(
        name=fields["name"], limit=int(fields["limit"]),
        slot_decay_per_second=float(fields.get("slot_decay_per_second") or 0),
        active_slots=float(fields.get("active_slots") or 0),
        holders=int(fields["holders"]), denied_slots=int(fields.get("denied_slots") or 0),
        created=datetime.fromisoformat(fields["created"]) if fields.get("created") else None)


def list_limits() -> list[ConcurrencyLimit]:
    """Every limit, by name."""
    found = []
    for name in _store().names():
        try:
            found.append(read_limit(name))
        except ConcurrencyLimitNotFound:  # deleted since the names were read
            continue
    return found


def reset_limit(name: str) -> ConcurrencyLimit:
    """Free every slot of `name` (holders lose their leases). Raises
    ConcurrencyLimitNotFound."""
    if not _store().reset(name):
        read_limit(name)  # raises the not-found error
    return read_limit(name)


def delete_limit(name: str) -> None:
    """Delete the limit `name` (blocks waiting on it then proceed unlimited, as for a limit
    that never existed). Raises ConcurrencyLimitNotFound."""
    if not _store().delete(name):
        raise ConcurrencyLimitNotFound(f"concurrency limit {name!r} not found (see "
                                       "`tasks-core concurrency-limit ls`)")
