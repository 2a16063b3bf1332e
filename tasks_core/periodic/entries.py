"""Celery's ``beat_schedule`` entries, read and checked (pure).

An entry is Celery's (periodic-tasks#beat-entries): a name mapped to ``{"task": name,
"schedule": ..., "args": [...], "kwargs": {...}, "options": {...}}``. They come from the
``beat_schedule`` setting (a TOML table, or JSON in ``TASKS_CORE_BEAT_SCHEDULE``) and from
the Celery app's ``conf.beat_schedule`` (set by a module ``tasks-core beat --import``s);
`tasks_core.periodic.sync` turns each into a deployment beat schedules.

``schedule`` is seconds (a positive number), a ``timedelta``, Celery's
``schedule(run_every=...)``, a ``crontab(...)`` or a cron string (the TOML spelling of a
crontab). ``options`` takes ``queue`` (the work pool, or ``pool:work-queue``, its runs go
to). What tasks-core would not do as Celery does is refused, naming the entry: Celery's
``solar`` schedules, ``relative=True``, and other ``apply_async`` options.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field

from tasks_core.engine.codec import to_json
from tasks_core.errors import ConfigurationError
from tasks_core.periodic.crontab import cron_string, is_crontab

__all__ = ["BeatEntry", "parse_entries", "schedule_of"]

SUPPORTED_OPTIONS = frozenset({"queue"})
_FIELDS = frozenset({"task", "schedule", "args", "kwargs", "options", "relative"})


class BeatEntry(BaseModel):
    """One checked entry: its schedule as a stored schedule dict (``{"interval": seconds}``
    or ``{"cron": "..."}``, `tasks_core.schedules`)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=200)
    task: str = Field(min_length=1, max_length=500)
    schedule: dict[str, Any]
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    queue: str | None = None
    source: str = "settings"
    """Where it was read: ``settings`` or ``app.conf``."""


def schedule_of(value: Any) -> dict[str, Any]:
    """A Celery entry's ``schedule`` as a stored schedule dict.

    Raises:
        ConfigurationError: not a positive number, timedelta, schedule, crontab or valid
            cron string (the message says which forms are accepted).
    """
    if isinstance(value, timedelta):
        value = value.total_seconds()
    elif type(value).__name__ == "schedule" and isinstance(
            getattr(value, "run_every", None), timedelta):
        value = value.run_every.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not value > 0:
            raise ConfigurationError(f"schedule must be > 0 seconds, got {value!r}")
        return {"interval": float(value)}
    if is_crontab(value) or isinstance(value, str):
        cron = cron_string(value)
        if not croniter.is_valid(cron):
            raise ConfigurationError(f"schedule {value!r} is not a valid cron string")
        return {"cron": cron}
    raise ConfigurationError(
        f"schedule {value!r} ({type(value).__name__}) is not supported: give seconds, a "
        "timedelta, crontab(...) or a cron string (Celery's solar schedules are not)")


def _entry(name: str, raw: Any, source: str) -> BeatEntry:
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"must be a table of task, schedule, args, kwargs, options; "
                                 f"got {type(raw).__name__}")
    if unknown := sorted(set(raw) - _FIELDS):
        raise ConfigurationError(f"unknown field(s) {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(_FIELDS))})")
    for needed in ("task", "schedule"):
        if needed not in raw:
            raise ConfigurationError(f"{needed} is missing")
    if raw.get("relative"):
        raise ConfigurationError("relative=True is not supported: intervals count from "
                                 "when the entry was first deployed")
    options = dict(raw.get("options") or {})
    if unknown := sorted(set(options) - SUPPORTED_OPTIONS):
        raise ConfigurationError(f"option(s) {', '.join(unknown)} not supported (supported: "
                                 f"{', '.join(sorted(SUPPORTED_OPTIONS))})")
    args, kwargs = raw.get("args") or [], raw.get("kwargs") or {}
    if not isinstance(args, list | tuple) or not isinstance(kwargs, Mapping):
        raise ConfigurationError("args must be a list and kwargs a table")
    to_json([args, kwargs])  # ValueError naming what has no JSON form
    return BeatEntry(name=name, task=str(raw["task"]), schedule=schedule_of(raw["schedule"]),
                     args=list(args), kwargs=dict(kwargs), queue=options.get("queue"),
                     source=source)


def parse_entries(schedule: Mapping[str, Any] | None, source: str) -> list[BeatEntry]:
    """The entries of one ``beat_schedule`` mapping, in name order.

    Raises:
        ConfigurationError: ``beat_schedule entry 'NAME' (SOURCE): what is wrong``.
    """
    if not schedule:
        return []
    if not isinstance(schedule, Mapping):
        raise ConfigurationError(f"beat_schedule ({source}) must map entry names to entries, "
                                 f"got {type(schedule).__name__}")
    entries = []
    for name in sorted(schedule):
        try:
            entries.append(_entry(str(name), schedule[name], source))
        except (ConfigurationError, ValueError) as exc:
            raise ConfigurationError(
                f"beat_schedule entry {name!r} ({source}): {exc}") from None
    return entries
