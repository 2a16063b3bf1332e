"""Work pool and queue names: the one check behind `work-pool create`, `worker --pool`,
`worker -Q` and the `WorkPool` record.

A pool name is also a Celery queue (a Redis list) and part of Redis keys and of the
worker's node name, so it is kept plain: ASCII letters, digits, '-', '_' and '.',
starting with a letter or digit, at most `MAX_LENGTH` characters. A queue is a pool name,
or ``pool:work-queue`` with both parts plain.
"""

from __future__ import annotations

import string

from tasks_core.errors import ValidationError

__all__ = ["MAX_LENGTH", "RULE", "check_pool_name", "check_queue_name", "pool_name_error"]

MAX_LENGTH = 100
RULE = "use ASCII letters, digits, '-', '_' and '.', starting with a letter or digit"
_FIRST = frozenset(string.ascii_letters + string.digits)
_ALLOWED = _FIRST | frozenset("-_.")


def _problem(name: str) -> str | None:
    if not name:
        return "is empty"
    if len(name) > MAX_LENGTH:
        return f"is {len(name)} characters long (at most {MAX_LENGTH})"
    bad = sorted(set(name) - _ALLOWED, key=name.index)
    if bad:
        return "has " + " and ".join(repr(char) for char in bad)
    if name[0] not in _FIRST:
        return f"starts with {name[0]!r}"
    return None


def pool_name_error(name: str, *, what: str = "work pool name") -> str | None:
    """Why `name` is not a valid pool name (``work pool name 'a b' has ' ': use ...``),
    or None when it is one."""
    problem = _problem(name)
    return None if problem is None else f"{what} {name!r} {problem}: {RULE}"


def check_pool_name(name: str, *, what: str = "work pool name") -> str:
    """`name`, when it is a valid pool name.

    Raises:
        ValidationError: naming what is wrong (empty, too long, which characters, the
            first character) and the rule.
    """
    error = pool_name_error(name, what=what)
    if error is not None:
        raise ValidationError(error)
    return name


def check_queue_name(name: str, *, what: str = "queue") -> str:
    """`name`, when it is a pool name or ``pool:work-queue`` with both parts valid.

    Raises:
        ValidationError: as `check_pool_name`, naming the part that is wrong.
    """
    pool, sep, work_queue = name.partition(":")
    check_pool_name(pool, what=f"{what} {name!r}: pool name" if sep else what)
    if sep:
        check_pool_name(work_queue, what=f"{what} {name!r}: work queue name")
    return name
