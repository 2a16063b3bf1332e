"""The run ledger in Redis: create runs, change their state atomically, read and wait on them.

Every write goes through one of two Lua scripts (create.lua, transition.lua), so a record,
its history (fields of the record: tasks_core/state_history.py), its state index and its
event always change together. A small result is kept in the record too (`result_inline`).
Writes can be queued on a pipeline so that a batch of transitions (or a run and its broker
message) costs one round trip.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from tasks_core.errors import RunNotFound
from tasks_core.records import RunRecord, StateEntry
from tasks_core.retention import run_ttl
from tasks_core.settings import Settings
from tasks_core.state_history import COUNT_FIELD, encode_entry, entries_from_fields, epoch_us
from tasks_core.states import StateName, is_terminal, state_type
from tasks_core.store.base import load_lua
from tasks_core.store.done_waits import DoneWaits
from tasks_core.store.keys import Keys
from tasks_core.store.metrics import DURATION_BUCKETS
from tasks_core.store.transition_args import TransitionArgs

__all__ = ["BrokerPush", "Outcome", "RunStore", "Transition", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _with_run_event(*names: str) -> str:
    """A script that emits run-state events, keeps the history in the record, may add a
    run to the due set, counts run durations and releases a canvas's waiting runs, after
    the functions of each (run_event.lua, history_fields.lua, due_add.lua,
    metrics_duration.lua, canvas_follow.lua): the files `names`, joined."""
    return "\n".join(load_lua(part) for part in
                     ("run_event.lua", "history_fields.lua", "due_add.lua",
                      "metrics_duration.lua", "canvas_follow.lua", *names))


READ_CHUNK = 250
"""Most records one read_runs.lua call reads (a short script: Redis serves others between)."""

CREATE_GROUP = 100
"""Most runs one creates.lua call writes (`RunStore.create_new`)."""


@dataclass(slots=True)
class NewRun:
    """A run to create, as it is stored: its flat record fields (`stored_fields`) and its
    broker message (None: none, or it waits in the due set)."""

    id: str
    kind: str
    state: StateName
    created: datetime
    fields: dict[str, str]
    push: BrokerPush | None = None


def stored_fields(run: RunRecord, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The fields of `run`'s record hash (`RunRecord.to_redis`, with `extra`), without those
    readers derive (`_DERIVED`)."""
    fields = run.to_redis() if extra is None else {**run.to_redis(), **extra}
    for derived in _DERIVED:  # RunRecord.from_redis derives them
        fields.pop(derived, None)
    return fields


_BOUNDS = ",".join(repr(float(bound)) for bound in DURATION_BUCKETS)


_DERIVED = ("state_type", "created")
"""Record fields not stored: the state's type follows from its name, and the time of
creation is the first history entry's (which holds it to the microsecond)."""


@dataclass(slots=True)
class BrokerPush:
    """A ready broker message: LPUSH `payload` onto the list `key`."""

    key: str
    payload: str


@dataclass(slots=True)
class Transition:
    """A requested state change of one run."""

    run_id: str
    target: StateName
    message: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    result_json: str | None = None
    expected_attempt: int | None = None
    push: BrokerPush | None = None
    return_fields: tuple[str, ...] = ()
    kind: str = "task"
    at: datetime | None = None
    due: datetime | None = None  # wait in the due set until then (beat sends the message)
    check_expiry: bool = False
    """Refuse the change when the run's Celery ``expires`` has passed (claims)."""
    keep_result: bool = True
    """False: `result_json` is handed to the runs waiting on this one (a chain's next step,
    a link) and stored nowhere (Celery's ``ignore_result``)."""
    outcome: bool = False
    """An attempt's outcome: if Redis refuses to write it (an error, not a state refusal),
    `stripped()` is written instead, so the run still ends, with the reason."""

    def stripped(self, reason: str) -> Transition:
        """The outcome reduced to what can always be written: a final state with no result,
        fields or message: Failed (or the failure state it was) naming `reason`."""
        keep = self.target in (StateName.FAILED, StateName.TIMED_OUT, StateName.CRASHED)
        target = self.target if keep else StateName.FAILED
        text = f"could not record {self.target.value} ({reason})"
        return Transition(self.run_id, target, message=text.encode("utf-8", "replace")
                          .decode("utf-8")[:500], expected_attempt=self.expected_attempt,
                          kind=self.kind, at=self.at)


@dataclass(slots=True)
class Outcome:
    """What happened to a Transition: applied, or refused with the run's actual state."""

    applied: bool
    missing: bool = False
    state: str = ""
    attempt: int = 0
    owner: str = ""
    record: dict[str, str] | None = None
    expired: bool = False
    """Refused because the run's Celery ``expires`` passed (a claim with check_expiry)."""
    error: str = ""
    """Not applied because Redis answered with an error (`Reporter.apply_now` with
    ``raise_errors=False``): the error's type and text."""


def _epoch(iso: str) -> float | str:
    """Epoch seconds of an ISO 8601 time (naive: UTC); '' when it is not one (the run's
    duration is then not counted, and the transition still applies)."""
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


RESULT_INLINE_MAX = 64
"""Longest result JSON (bytes) kept in the run's record rather than under a key of its own:
Redis keeps a hash in its compact listpack encoding while every value is at most 64 bytes
(``hash-max-listpack-value``'s default), and a key of its own costs about 150 bytes more."""


def result_inline(settings: Settings, target: StateName, result_json: str) -> bool:
    """Whether a run entering terminal state `target` keeps `result_json` in its record:
    when it is short (`RESULT_INLINE_MAX`) and its TTL, ``result_ttl_seconds``, is the
    record's (`run_ttl`; both 1 day by default), so it expires exactly when a key of its
    own would have. Otherwise it gets a key with its own TTL, shorter or longer."""
    return (len(result_json.encode("utf-8")) <= RESULT_INLINE_MAX
            and settings.result_ttl_seconds == run_ttl(settings, target))


class RunStore:
    """Reads and writes run records for one Redis and one key prefix."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.keys = Keys(settings.key_prefix)
        self._fixed = TransitionArgs(self.keys, settings)
        self._create = client.register_script(_with_run_event("create.lua", "create_one.lua"))
        self._creates = client.register_script(
            _with_run_event("create.lua", "apply_each.lua", "creates.lua"))
        self._transition = client.register_script(
            _with_run_event("transition.lua", "transition_one.lua"))
        self._transitions = client.register_script(
            _with_run_event("transition.lua", "apply_each.lua", "transitions.lua"))
        self._read = client.register_script(load_lua("read_runs.lua"))
        self._celery_state = client.register_script(load_lua("celery_state.lua"))
        self._done_waits = DoneWaits(client)

    # -- writes ---------------------------------------------------------------------------

    def create(
        self, run: RunRecord, push: BrokerPush | None = None, *, pipe: Any = None,
        due: datetime | None = None, due_index: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> bool | None:
        """Write a new run (and its broker message) atomically; False when the id exists
        (True again for this same creation sent again after it applied: create.lua).

        The record is written as `RunRecord.to_redis()` gives it (its history starts with
        its state).

        With `due`, the run waits in the due set until beat sends it at that time (no
        message now), and is also added to `due_index` (scored by that time) when given.
        With `pipe`, the write is queued on that pipeline and None is returned.
        `extra`: more hash fields that are not RunRecord fields (a canvas's `links` plan).
        """
        keys, args = self._create_call(run, push, due, due_index, extra)
        result = self._create(keys=keys, args=args, client=pipe or self.client)
        return None if pipe is not None else bool(result)

    def _create_call(
        self, run: RunRecord, push: BrokerPush | None, due: datetime | None = None,
        due_index: str | None = None, extra: dict[str, str] | None = None,
    ) -> tuple[list[str], list[Any]]:
        return self._new_run_call(NewRun(run.id, run.kind, run.state, run.created,
                                         stored_fields(run, extra), push), due, due_index)

    def _new_run_call(self, run: NewRun, due: datetime | None = None,
                      due_index: str | None = None) -> tuple[list[str], list[Any]]:
        k = self.keys
        at, fields, push = run.created, run.fields, run.push
        keys = [
            k.run(run.id),
            k.events,
            k.runs(run.kind),
            k.state_index(run.kind, run.state),
            push.key if push else k.events,
        ]
        args = [
            run.id,
            at.timestamp(),
            json.dumps(fields, separators=(",", ":")),
            encode_entry(run.state.value, state_type(run.state).value, at, ""),
            "",
            self.settings.event_retention,
            push.payload if push else "",
            epoch_us(at),
            self.keys.children(parent) if (parent := fields.get("parent_task_run_id")
                                           or fields.get("parent_flow_run_id")) else "",
            self.keys.due if due is not None else "",
            due.timestamp() if due is not None else 0,
            due_index or "",
            self.keys.due_wake,
            "null",  # the event's validated state: derivable (run_event_codec fills it in)
        ]
        return keys, args

    def transition(self, change: Transition) -> Outcome:
        """Apply one transition now and say what happened."""
        raw = self._transition(*self._transition_call(change), client=self.client)
        return self.parse_outcome(raw)

    def queue_transition(self, pipe: Any, change: Transition) -> None:
        """Queue a transition on a pipeline (parse its reply with `parse_outcome`)."""
        keys, args = self._transition_call(change)
        self._transition(keys=keys, args=args, client=pipe)

    def queue_transitions(self, pipe: Any, changes: Sequence[Transition]) -> None:
        """Queue several transitions on a pipeline as one command (transitions.lua: each
        applied in order as `queue_transition` would, in one script call); its one reply is
        a list of one reply per change, or an error for them all (`transitions_replies`)."""
        keys: list[str] = []
        args: list[Any] = []
        for change in changes:
            each_keys, each_args = self._transition_call(change)
            keys += each_keys
            args += each_args
        self._transitions(keys=keys, args=args, client=pipe)

    @staticmethod
    def transitions_replies(reply: Any, count: int) -> list[Any]:
        """The per-change replies of one `queue_transitions` command of `count` changes
        (its error, for each, when the call failed as a whole)."""
        if isinstance(reply, Exception) or not isinstance(reply, list) or len(reply) != count:
            return [reply] * count
        return reply

    def apply_many(self, changes: Sequence[Transition]) -> list[Outcome]:
        """Apply transitions in one round trip (each one atomic, in order)."""
        if not changes:
            return []
        with self.client.pipeline(transaction=False) as pipe:
            for change in changes:
                self.queue_transition(pipe, change)
            replies = pipe.execute()
        return [self.parse_outcome(raw) for raw in replies]

    def _transition_call(self, change: Transition) -> tuple[list[str], list[Any]]:
        # a worker builds two per run: what is the same for every change is built once
        # (`TransitionArgs`), the rest as plainly as it can be
        fixed = self._fixed
        target = fixed.targets.get(change.target) or fixed.target(change.target)
        at = change.at
        fresh = at is None
        if at is None:  # fixed at the first write: the same change sent again is known by it
            at = change.at = utcnow()
        at_iso = at.isoformat()
        run_id = change.run_id
        run_key = fixed.run_prefix + run_id
        # a state's message is its own: an empty one clears the message of the state before
        message = change.message
        fields = {**change.fields, "state_message": message}
        if target.terminal and "end_time" not in fields:
            fields["end_time"] = at_iso
        keep = "0"  # transition.lua's ARGV[25]: where the result goes
        if change.result_json is not None and not change.keep_result:
            keep = "-"  # handed on only (ignore_result)
        elif change.result_json is not None:
            inline = result_inline(self.settings, target.name, change.result_json)
            keep = "1" if inline else "0"
            # where the result is: in the record (field `result`), else under its own key
            fields["result_ref"] = "" if inline else fixed.result_prefix + run_id
        push = change.push
        us = epoch_us(at)
        if message:  # the event's validated state: null when derivable (run_event_codec)
            validated = json.dumps({"name": target.value, "type": target.type_value,
                                    "message": message}, separators=(",", ":"))
            entry = encode_entry(target.value, target.type_value, at, message)
        else:
            validated = "null"
            entry = f'["{target.value}",{us}]'  # encode_entry's form, with no message
        keys = [
            run_key,
            fixed.events,
            run_key + ":done",
            fixed.result_prefix + run_id,
            push.key if push else fixed.events,
            run_key + ":logs",
            run_key + ":children",
            fixed.keys.pause_resumed(run_id),
        ]
        due = change.due
        args = [
            target.value,
            target.type_value,
            target.sources,
            "" if change.expected_attempt is None else str(change.expected_attempt),
            due.timestamp() if due is not None else at.timestamp(),
            fixed.index_prefix(change.kind),
            entry,
            json.dumps(fields, separators=(",", ":")),
            us,
            at_iso,
            fixed.event_retention,
            push.payload if push else "",
            change.result_json if change.result_json is not None else "",
            fixed.result_ttl,
            "1" if target.terminal else "0",
            target.ttl,
            validated,
            ",".join(change.return_fields),
            fixed.due if due is not None else "",
            fixed.due_wake,
            fixed.durations if target.terminal else "",
            _epoch(fields["end_time"]) if target.terminal else "",
            _BOUNDS,
            # now, not the change's time: a claim sent again later is checked then
            (at_iso if fresh else utcnow().isoformat()) if change.check_expiry else "",
            keep,
        ]
        return keys, args

    @staticmethod
    def parse_outcome(raw: Any) -> Outcome:
        """Turn a transition.lua reply into an Outcome (raises the reply if it is an error)."""
        if isinstance(raw, Exception):
            raise raw
        code = int(raw[0])
        if code == -1:
            return Outcome(applied=False, missing=True)
        if code == 0:
            return Outcome(applied=False, state=raw[1], attempt=int(raw[2]), owner=raw[3],
                           expired=len(raw) > 4 and raw[4] == "expired")
        record = dict(zip(raw[1::2], raw[2::2], strict=True)) if len(raw) > 1 else None
        return Outcome(applied=True, record=record)

    # -- reads ----------------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord:
        """The record with its history; RunNotFound when there is none."""
        fields: dict[str, str] = self.client.hgetall(self.keys.run(run_id))  # type: ignore[assignment]
        if not fields:
            raise RunNotFound(f"run {run_id!r} not found (it may have expired)")
        return RunRecord.from_redis(self._with_legacy_history([(run_id, fields)])[0])

    def get_many(self, run_ids: Iterable[str], *, history: bool = False) -> list[RunRecord]:
        """Records of several runs (missing ones are skipped), in order: one round trip per
        `READ_CHUNK` runs (read_runs.lua), with their history when `history` is true."""
        ids = list(run_ids)
        rows = [(run_id, fields) for run_id, fields in zip(ids, self._rows(ids), strict=True)
                if fields]
        if history:
            return [RunRecord.from_redis(fields) for fields in self._with_legacy_history(rows)]
        return [RunRecord.from_redis(fields, history=False) for _, fields in rows]

    def _with_legacy_history(self, rows: list[tuple[str, dict[str, str]]],
                             ) -> list[dict[str, str]]:
        """The records' fields, with the history list of those written before the history
        moved into the record (no ``hn``: `Keys.legacy_history`) as fields h1..hk; one
        round trip, only when there is such a record."""
        old = [run_id for run_id, fields in rows if COUNT_FIELD not in fields]
        if not old:
            return [fields for _, fields in rows]
        with self.client.pipeline(transaction=False) as pipe:
            for run_id in old:
                pipe.lrange(self.keys.legacy_history(run_id), 0, -1)
            lists = dict(zip(old, pipe.execute(), strict=True))
        return [{**fields, **{f"h{i}": entry for i, entry in enumerate(lists[run_id], 1)}}
                if run_id in lists else fields for run_id, fields in rows]

    def _rows(self, ids: Sequence[str]) -> list[dict[str, str] | None]:
        rows: list[dict[str, str] | None] = []
        for start in range(0, len(ids), READ_CHUNK):
            keys = [self.keys.run(run_id) for run_id in ids[start:start + READ_CHUNK]]
            rows += [json.loads(text) if text else None
                     for text in self._read(keys=keys, client=self.client)]
        return rows

    def list_ids(
        self, kind: str = "task", *, state: str | None = None, limit: int = 50
    ) -> list[str]:
        """Newest run ids first, optionally only those now in `state`."""
        key = self.keys.state_index(kind, StateName(state)) if state else self.keys.runs(kind)
        return [str(v) for v in self.client.zrevrange(key, 0, limit - 1)]

    def ids_until(self, key: str, max_score: float, limit: int) -> list[str]:
        """Oldest ids of an index whose score is at most `max_score`."""
        return [str(v) for v in self.client.zrangebyscore(key, "-inf", max_score, 0, limit)]

    def children(self, run_id: str) -> list[str]:
        """Ids of the runs started inside a run, oldest first."""
        return [str(v) for v in self.client.zrange(self.keys.children(run_id), 0, -1)]

    def create_many(self, runs: Sequence[tuple[RunRecord, BrokerPush | None]]) -> None:
        """Create runs (each with its broker message or None) in one round trip."""
        self.create_new([NewRun(run.id, run.kind, run.state, run.created,
                                stored_fields(run), push) for run, push in runs])

    def create_new(self, runs: Sequence[NewRun]) -> None:
        """Create runs given as their stored fields, in one round trip: `CREATE_GROUP` to a
        script call (creates.lua), so that Redis serves others between groups. An id that
        exists already is left untouched (as `create`).

        Raises:
            redis.ResponseError: a run Redis refused to write (the first one; the others
                were written).
        """
        with self.client.pipeline(transaction=False) as pipe:
            for start in range(0, len(runs), CREATE_GROUP):
                keys: list[str] = []
                args: list[Any] = []
                for run in runs[start:start + CREATE_GROUP]:
                    each_keys, each_args = self._new_run_call(run)
                    keys += each_keys
                    args += each_args
                self._creates(keys=keys, args=args, client=pipe)
            replies = pipe.execute()
        for reply in replies:
            for each in reply if isinstance(reply, list) else [reply]:
                if isinstance(each, Exception):
                    raise each

    def outcome_of(self, run_id: str) -> tuple[str | None, bool, str | None]:
        """(state, whether a result was stored, the stored result JSON or None when it
        expired or was forgotten) of a run, in one round trip."""
        return self.outcomes_of([run_id])[0]

    def outcomes_of(self, run_ids: Sequence[str]) -> list[tuple[str | None, bool, str | None]]:
        """`outcome_of` for many runs, in order, in one round trip (two reads per run)."""
        with self.client.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.hmget(self.keys.run(run_id), "state", "result_ref", "result",
                           "result_size")
                pipe.get(self.keys.result(run_id))
            replies = pipe.execute()
        outcomes: list[tuple[str | None, bool, str | None]] = []
        for (state, result_ref, inline, size), text in zip(replies[::2], replies[1::2],
                                                           strict=True):
            outcomes.append((state, bool(result_ref or inline or size),
                             inline if inline is not None else text))
        return outcomes

    def states_of(self, run_ids: Sequence[str]) -> list[str | None]:
        """The current state names of runs (None for unknown ones), in one round trip."""
        with self.client.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.hget(self.keys.run(run_id), "state")
            return list(pipe.execute())

    def set_celery_state(self, run_id: str, state: str, meta_json: str) -> int:
        """Store Celery's custom state and its meta (JSON object text) on a running run
        (celery_state.lua): 1 stored, 0 the run is not Running or Retrying, -1 no such
        run (yet)."""
        return int(self._celery_state(keys=[self.keys.run(run_id)], args=[state, meta_json]))

    def field(self, run_id: str, name: str) -> str:
        """One field of a run's record ('' when the run or the field is missing)."""
        return str(self.client.hget(self.keys.run(run_id), name) or "")

    def fields_of(self, run_id: str, names: Sequence[str]) -> dict[str, str]:
        """Fields of a run's record, by name ('' for a missing one), in one HMGET."""
        values = self.client.hmget(self.keys.run(run_id), list(names))
        return {name: str(value or "") for name, value in zip(names, values, strict=True)}

    def state_of(self, run_id: str) -> str | None:
        """The current state name, or None for an unknown run."""
        value = self.client.hget(self.keys.run(run_id), "state")
        return str(value) if value is not None else None

    def wait(self, run_id: str, timeout: float | None) -> bool:
        """Block until the run is terminal; False when `timeout` seconds pass first.

        Waiting is pushed without storing anything per run (`DoneWaits`): the waiter
        subscribes to the run's done channel, then reads the state, and reads it again
        every second while nothing arrives.

        Raises:
            RunNotFound: the run has no record (never created, or expired).
        """
        deadline = None if timeout is None else time.monotonic() + timeout

        def ended() -> bool:
            state = self.state_of(run_id)
            if state is None:
                raise RunNotFound(f"run {run_id!r} not found (it may have expired)")
            return is_terminal(state)

        def left() -> float | None:
            return None if deadline is None else deadline - time.monotonic()

        return self._done_waits.wait(self.keys.done(run_id), ended, left)

    def history_since(self, run_id: str, start: int = 0) -> list[StateEntry]:
        """The run's state entries from index `start`, oldest first (empty when there is no
        new one, or no such run): a follower reads only what it has not seen yet."""
        fields: dict[str, str] = self.client.hgetall(self.keys.run(run_id))  # type: ignore[assignment]
        if fields:
            fields = self._with_legacy_history([(run_id, fields)])[0]
        return [StateEntry.model_validate(entry)
                for entry in entries_from_fields(fields, start)]

    def logs(self, run_id: str, *, start: int = 0) -> list[dict[str, Any]]:
        """The run's log entries, oldest first, from index `start` (empty when none).

        Entries are buffered by the reporter: flush it first to see the latest ones.
        """
        raw = self.client.lrange(self.keys.logs(run_id), start, -1)
        return [json.loads(entry) for entry in raw]

    def forget_result(self, run_id: str) -> bool:
        """Delete a run's stored result (Celery's ``AsyncResult.forget``); the record and
        its history stay. Whether there was one."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hdel(self.keys.run(run_id), "result")
            pipe.delete(self.keys.result(run_id))
            return any(pipe.execute())

    def result_json(self, run_id: str) -> str | None:
        """The stored JSON result text, or None when there is none (or it expired)."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hget(self.keys.run(run_id), "result")
            pipe.get(self.keys.result(run_id))
            inline, value = pipe.execute()
        found = inline if inline is not None else value
        return str(found) if found is not None else None
