"""The caller's Celery ``headers=`` of a run, as its messages carry them.

A run record holds them as a dict (`RunRecord.headers`), a claimed run as the JSON text
its claim returned (`ClaimedRun.headers`); every message of the run (its first, a retry, a
re-send by beat) carries them again, next to Celery's own protocol-2 headers, which win.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["RATE_RESERVED_HEADER", "TASK_HEADER", "message_headers"]

TASK_HEADER = "tc_task"
"""Header of every run message: the run's task name (a worker's rate limit gate reads it,
and a custom ``shadow=`` does not change it)."""

RATE_RESERVED_HEADER = "tc_rate_reserved"
"""Header of a message the rate limit gate sent back for its reserved slot: not gated again."""


def message_headers(run: Any) -> dict[str, Any]:
    """The custom headers of `run` (a RunRecord or a ClaimedRun); {} when it has none or
    they cannot be read (a message is still sent)."""
    value = getattr(run, "headers", None)
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return {}
