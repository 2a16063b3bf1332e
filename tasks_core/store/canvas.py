"""A canvas's runs written at once, and saved group results (see `tasks_core.canvas`).

Every run of a chain, group, chord or link= callback is created when the canvas is sent:
the first runs Pending (their messages pushed in the same transaction), the rest Paused
(held) with a `links` plan on the run they wait for. transition.lua releases or ends the
held runs in the terminal transition of the run they wait for (canvas_follow.lua), so no
process waits on a result and a held run never outlives what it waits for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tasks_core.records import RunRecord
from tasks_core.store.runs import BrokerPush, RunStore

__all__ = ["CanvasRun", "Chord", "link_keys", "restore_group", "save_group", "target",
           "write_canvas"]


@dataclass(slots=True)
class CanvasRun:
    """One run of a canvas to create: its record, its message (None: held, or not direct),
    its due time (a countdown on a first step), and its `links` plan (JSON, '' = none)."""

    run: RunRecord
    push: BrokerPush | None = None
    due: datetime | None = None
    links: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Chord:
    """A chord's join: `size` header members; `body`: the targets released with the list."""

    chord_id: str
    size: int
    body: list[dict[str, Any]]


def link_keys(store: RunStore) -> dict[str, Any]:
    """The keys and settings a plan carries (its "k" section; see canvas_follow.lua)."""
    k = store.keys
    return {"events": k.events, "maxlen": store.settings.event_retention,
            "tidx": k.state_index_prefix("task"), "due": k.due, "wake": k.due_wake,
            "ttl": store.settings.run_ttl_seconds,
            "fttl": store.settings.failed_run_ttl_seconds}


def target(store: RunStore, run_id: str, *, arg: bool,
           push: BrokerPush | None) -> dict[str, Any]:
    """A held run as a plan names it (see canvas_follow.lua): its keys, whether the result
    goes into its parameters, its message."""
    k = store.keys
    return {"id": run_id, "run": k.run(run_id),
            "done": k.done(run_id), "arg": arg,
            "push": [push.key, push.payload] if push else None}


def write_canvas(store: RunStore, runs: list[CanvasRun], chords: list[Chord]) -> None:
    """Create every run of a canvas and its chord joins in one MULTI/EXEC transaction: all
    of them exist, or none (a process dying mid-send leaves no held run behind). A chord's
    join gets no TTL here: its header runs have not ended, and a header slower than the run
    TTL must still find it; each member's end sets the run TTL on it (canvas_follow.lua)."""
    with store.client.pipeline(transaction=True) as pipe:
        for chord in chords:
            key = store.keys.chord(chord.chord_id)
            pipe.hset(key, mapping={"left": chord.size, "size": chord.size,
                                    "body": json.dumps(chord.body, separators=(",", ":"))})
        for each in runs:
            extra = ({"links": json.dumps(each.links, separators=(",", ":"))}
                     if each.links else None)
            store.create(each.run, each.push, pipe=pipe, due=each.due, extra=extra)
        pipe.execute()


def save_group(store: RunStore, group_id: str, run_ids: list[str]) -> None:
    """Keep a GroupResult's run ids under its id for `restore_group` (run TTL)."""
    store.client.set(store.keys.group(group_id), json.dumps(run_ids),
                     ex=store.settings.run_ttl_seconds)


def restore_group(store: RunStore, group_id: str) -> list[str] | None:
    """The run ids saved for `group_id`, or None when none were (or they expired)."""
    text = store.client.get(store.keys.group(group_id))
    return None if text is None else [str(v) for v in json.loads(text)]


def delete_group(store: RunStore, group_id: str) -> None:
    """Forget a saved GroupResult."""
    store.client.delete(store.keys.group(group_id))
