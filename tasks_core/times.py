"""Points in time from user input: a duration back from now, or an ISO time (pure).

The grammar of every ``--since`` / ``--until`` option of the CLI and of the HTTP API's
``since`` / ``until`` values::

    30s  15m  1.5h  2d  1w           a duration back from `now`
    2026-11-24T10:00[+02:00]         an ISO 8601 time
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from tasks_core.errors import ValidationError

__all__ = ["parse_since"]

_SINCE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime, *, naive: Literal["local", "utc"] = "local"
                ) -> datetime:
    """A point in time from user input: a duration back from `now` (`30m`, `1h`, `2d`) or
    an ISO time (`2026-11-24T10:00`).

    Args:
        naive: how an ISO time without an offset is read: this machine's local time (the
            CLI) or UTC (the HTTP API, whose clients are elsewhere).

    Raises:
        ValidationError: neither form; the message shows both.
    """
    text = value.strip()
    if match := _SINCE.fullmatch(text.lower()):
        amount, unit = float(match.group(1)), _UNITS[match.group(2)]
        try:
            return now - timedelta(**{unit: amount})
        except OverflowError:
            raise ValidationError(f"invalid time {value!r}: {text} is too far back") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"invalid time {value!r}: give a duration back from now (45s, 30m, 1h, 2d, 1w) "
            "or an ISO time like 2026-11-24T10:00") from None
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC) if naive == "utc" else moment.astimezone()
