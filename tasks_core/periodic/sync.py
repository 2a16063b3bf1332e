"""``beat_schedule`` entries -> deployments, made to match when beat starts.

`tasks-core beat` calls `sync_beat_schedule` before its first pass, with the entries of
the ``beat_schedule`` setting and of the Celery app's ``conf.beat_schedule`` (after its
``--import`` modules ran). Each entry becomes (or updates) the deployment
``beat-schedule/<entry name as a slug>`` of the `beat_entry` flow; deployments of that
flow whose entry is gone are deleted (their queued scheduled runs cancelled). From then
on the scheduler treats them as any deployment (`beat.scheduler`): each due time's run is
created exactly once (deployment + time, SET NX, however many beats run), and times missed
while beat was down follow catch-up ``latest``: one run, as Celery beat runs an overdue
entry once when it starts.

Doing this twice with the same entries changes nothing: an entry's deployment keeps its id
and an interval keeps its anchor (the first deploy time), so restarting beat neither
re-plans nor shifts its times. The schedule in force is the one the last started beat
read: start every beat with the same settings and ``--import``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks_core.deployment_models import Deployment, slugify
from tasks_core.deployments.define import build_deployment, delete_deployment, deploy
from tasks_core.errors import ConfigurationError
from tasks_core.periodic.entries import BeatEntry, parse_entries
from tasks_core.periodic.runner import ENTRYPOINT, FLOW_NAME, beat_entry
from tasks_core.process_runtime import get_runtime

__all__ = ["SyncReport", "configured_entries", "sync_beat_schedule"]

log = logging.getLogger("tasks_core.beat")


@dataclass
class SyncReport:
    """What a sync did, by deployment name."""

    deployed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def configured_entries(conf_schedule: Mapping[str, Any] | None = None) -> list[BeatEntry]:
    """The entries of the ``beat_schedule`` setting and of `conf_schedule` (the Celery
    app's ``conf.beat_schedule``).

    Raises:
        ConfigurationError: a bad entry (named), or one name in both places.
    """
    from_settings = parse_entries(get_runtime().settings.beat_schedule, "settings")
    from_conf = parse_entries(conf_schedule, "app.conf")
    names = [slugify(e.name) for e in [*from_settings, *from_conf]]
    if doubles := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigurationError(
            f"beat_schedule entries {doubles} are given twice (in the settings and app.conf, "
            "or as names that differ only in case or punctuation): rename one")
    return [*from_settings, *from_conf]


def _anchor(entry: BeatEntry, previous: Deployment | None, timezone: str) -> dict[str, Any]:
    schedule = dict(entry.schedule, timezone=timezone)
    if previous is not None and "interval" in schedule:
        for old in previous.schedules:
            if old.get("interval") == schedule["interval"] and old.get("anchor_date"):
                schedule["anchor_date"] = old["anchor_date"]
    return schedule


def _deployment(entry: BeatEntry, previous: Deployment | None, timezone: str) -> Deployment:
    pool, _, work_queue = (entry.queue or "").partition(":")
    built = build_deployment(
        beat_entry, slugify(entry.name), entrypoint=ENTRYPOINT, work_pool_name=pool or None,
        work_queue_name=work_queue or None,
        parameters={"task": entry.task, "args": entry.args, "kwargs": entry.kwargs},
        schedules=[_anchor(entry, previous, timezone)], catchup="latest",
        description=f"beat_schedule entry {entry.name!r} ({entry.source}): {entry.task}")
    # the flow is tasks-core's own: workers import it, there is no source folder to fetch
    return built.model_copy(update={"source": None})


def sync_beat_schedule(entries: list[BeatEntry], *, timezone: str | None = None) -> SyncReport:
    """Make the ``beat-schedule/*`` deployments match `entries`; what changed. Cron times
    are in `timezone` (Celery's ``timezone`` setting, default UTC, as Celery's crontab).

    Raises:
        ConfigurationError: an unknown time zone.
        ParameterError: an entry's args or kwargs have no JSON form.
    """
    rt = get_runtime()
    existing = {d.name: d for d in rt.deployments.list() if d.flow_name == FLOW_NAME}
    report = SyncReport()
    wanted = set()
    for entry in entries:
        name = slugify(entry.name)
        wanted.add(name)
        deploy(_deployment(entry, existing.get(name), timezone or "UTC"))
        report.deployed.append(f"{FLOW_NAME}/{name}")
    for name in sorted(set(existing) - wanted):
        delete_deployment(f"{FLOW_NAME}/{name}")
        report.removed.append(f"{FLOW_NAME}/{name}")
    if report.deployed or report.removed:
        log.info("beat_schedule: %d entries deployed%s", len(report.deployed),
                 f", removed {', '.join(report.removed)}" if report.removed else "")
    return report
