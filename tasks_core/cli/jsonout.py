"""`--json` output of the CLI, for scripts: JSON Lines for `ls`, one object for `inspect`.

Written with plain `print` (never rich: no wrapping, colour or markup at any width). Ids
are always whole. Run listings (`task-run ls --json`, `flow-run ls --json`) print one
`run_json` object per line; its keys are stable and documented in the README.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tasks_core.cli.output import run_duration
from tasks_core.records import RunRecord

__all__ = ["RUN_KEYS", "print_json", "print_json_lines", "run_json"]

RUN_KEYS = (
    "id", "name", "kind", "state", "state_type", "state_message", "attempt", "max_attempts",
    "task_key", "queue", "worker", "tags", "created", "scheduled_time", "start_time",
    "end_time", "duration_seconds", "running", "parent_task_run_id", "parent_flow_run_id",
    "deployment_id",
)
"""The keys of `run_json`, in order."""


def print_json(value: Any) -> None:
    """One JSON document on stdout, indented (`inspect --json`)."""
    print(json.dumps(value, indent=2, ensure_ascii=False), flush=True)


def print_json_lines(values: Iterable[Any]) -> None:
    """One compact JSON document per line on stdout (`ls --json`); nothing when empty.

    A reader that stops early (`| head -1`) ends the command quietly with code 0.
    """
    try:
        for value in values:
            sys.stdout.write(json.dumps(value, ensure_ascii=False, separators=(",", ":"))
                             + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # the rest would go nowhere; point stdout at devnull so exiting flushes nothing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def run_json(record: RunRecord, now: datetime) -> dict[str, Any]:
    """A run as one line of `ls --json` (keys: `RUN_KEYS`; times ISO 8601 with offset).

    `duration_seconds` is measured to `now` while the run is `running`; `max_attempts` is
    retries + 1.
    """
    seconds, running = run_duration(record, now)
    values: dict[str, Any] = {
        "id": record.id, "name": record.name, "kind": record.kind,
        "state": record.state.value, "state_type": record.state_type.value,
        "state_message": record.state_message, "attempt": record.attempt,
        "max_attempts": record.options.retries + 1, "task_key": record.task_key or None,
        "queue": record.queue, "worker": record.worker, "tags": list(record.tags),
        "created": _iso(record.created), "scheduled_time": _iso(record.scheduled_time),
        "start_time": _iso(record.start_time), "end_time": _iso(record.end_time),
        "duration_seconds": seconds, "running": running,
        "parent_task_run_id": record.parent_task_run_id,
        "parent_flow_run_id": record.parent_flow_run_id,
        "deployment_id": record.deployment_id,
    }
    return {key: values[key] for key in RUN_KEYS}
