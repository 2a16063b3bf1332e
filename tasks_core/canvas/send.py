"""Sending a canvas: every run created at once, the rest released by the ledger.

`send(sig)` turns a signature, chain, group or chord (and its link= / link_error=
callbacks) into runs (`engine.new_runs.task_run`) and writes them in one transaction
(`store.canvas.write_canvas`):

- the first runs are Pending and their messages go with the write (or Scheduled until a
  countdown / eta);
- every other run is Paused (held), named in the `links` plan of the run it waits for,
  with its message ready; its parent in the run tree is that run (Celery's parent_id);
- when a run ends, its terminal transition (transition.lua + canvas_follow.lua) releases
  the runs waiting on it, with its result spliced into their parameters where the result
  is their first argument, or ends them (Failed with its error / Cancelled) when it did not
  complete; a chord's body is released by the header run whose end brings its counter to 0.

So no process waits on a result, a crash between two steps loses nothing (the release is
part of the step's own end), and a held run never outlives what it waits for.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks_core.canvas.primitives import chain, chord, group
from tasks_core.canvas.results import CanvasResult, GroupResult
from tasks_core.canvas.signatures import CANVAS_OPTIONS, SENDERS, Signature, maybe_signature
from tasks_core.engine import new_runs
from tasks_core.engine.caching import cache_key
from tasks_core.engine.context import current_run
from tasks_core.engine.sending import run_envelope
from tasks_core.errors import ConfigurationError
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.states import StateName
from tasks_core.store.canvas import CanvasRun, Chord, link_keys, target, write_canvas
from tasks_core.store.runs import BrokerPush

__all__ = ["PREVIOUS_RESULT", "send"]

PREVIOUS_RESULT = "@@tasks-core:previous-result@@"
"""Stands in a held run's parameters for the value it waits for; canvas_follow.lua
replaces its JSON string with the previous run's result JSON (or a chord's list)."""


@dataclass(slots=True)
class _Node:
    out: CanvasRun
    arg: bool
    push: BrokerPush | None
    envelope: Any


@dataclass(slots=True)
class _Part:
    entries: list[_Node]
    exits: list[_Node]
    result: Any
    many: bool = False  # its end is a list (a group): what follows joins it as a chord


@dataclass
class _Builder:
    rt: Runtime
    runs: list[CanvasRun] = field(default_factory=list)
    chords: list[Chord] = field(default_factory=list)
    publish: list[Any] = field(default_factory=list)

    # -- one task call ---------------------------------------------------------------

    def node(self, sig: Signature, *, held: bool, arg: bool, after: str | None) -> _Part:
        task = sig.type
        options = sig.options
        unknown = sorted(set(options) - CANVAS_OPTIONS - {"_call"})
        if unknown:
            raise ConfigurationError(
                f"{sig!r}: option(s) {', '.join(unknown)} are not supported inside a canvas "
                f"(supported: {', '.join(sorted(CANVAS_OPTIONS))})")
        eta = _eta(sig, options)
        if held and eta is not None:
            raise ConfigurationError(
                f"{sig!r}: countdown/eta is supported on a canvas's first tasks only")
        takes = arg and not sig.immutable
        run_id = str(uuid.uuid4())
        params_json, key = self._parameters(task, sig, takes, run_id)
        frame = current_run.get()
        state = StateName.PAUSED if held else StateName.SCHEDULED if eta else StateName.PENDING
        run = new_runs.task_run(
            task, params_json, new_runs.run_options(task, frame, cache_key=key), frame,
            state=state, queue=options.get("queue") or task.queue or self.rt.settings.default_pool,
            priority=int(options.get("priority", task.priority)), scheduled_time=eta,
            run_id=run_id, caused_by=after)
        if held:
            run.state_message = f"waiting for run {after}" if after else "waiting"
        envelope = run_envelope(run, 1)
        push = self.rt.dispatcher.push_for(envelope)
        later = eta is not None and eta > datetime.now(UTC)
        out = CanvasRun(run, push=None if (held or later) else push, due=eta if later else None)
        if not held and not later and push is None:
            self.publish.append(envelope)
        self.runs.append(out)
        node = _Node(out, takes, push, envelope)
        for kind in ("link", "link_error"):
            for callback in options.get(kind) or []:
                sub = self.part(maybe_signature(callback, owner=kind), held=True, arg=True,
                                after=run.id)
                for entry in sub.entries:
                    self.add(node, "ok" if kind == "link" else "err", entry)
        result = CanvasResult(run.id, task.name, task.return_type)
        return _Part([node], [node], result)

    def _parameters(self, task: Any, sig: Signature, takes: bool,
                    run_id: str) -> tuple[str, str | None]:
        args, kwargs = list(sig.args), sig.kwargs
        if takes:
            # checked again, with the real value, by the worker when the run starts
            bound = task.parameters.bind([PREVIOUS_RESULT, *args], kwargs)
            settings = self.rt.settings
            return task.parameters.encode(bound, max_bytes=settings.parameters_max_bytes,
                                          max_depth=settings.parameters_max_depth), None
        bound = task.parameters.bind(args, kwargs)
        key = cache_key(task, run_id, bound) if task.caches else None
        return task.encode_parameters(bound), key

    # -- structure -------------------------------------------------------------------

    def add(self, source: _Node, kind: str, dest: _Node) -> None:
        """`dest` waits for `source` (kind "ok": its result; "err": its failure)."""
        plan = source.out.links
        plan.setdefault("k", link_keys(self.rt.store))
        plan.setdefault(kind, []).append(self.target(dest))

    def target(self, dest: _Node) -> dict[str, Any]:
        return target(self.rt.store, dest.out.run.id, arg=dest.arg,
                      push=dest.push)

    def connect(self, before: _Part, after: _Part) -> None:
        """`after`'s first runs wait for `before`'s end (a list of results: a chord)."""
        if not before.many:
            for exit_ in before.exits:
                for entry in after.entries:
                    self.add(exit_, "ok", entry)
            return
        if not before.exits:
            raise ConfigurationError("a chord (or a group followed by a task) needs at least "
                                     "one header task")
        chord_id = str(uuid.uuid4())
        key = self.rt.store.keys.chord(chord_id)
        self.chords.append(Chord(chord_id, len(before.exits),
                                 [self.target(e) for e in after.entries]))
        for index, exit_ in enumerate(before.exits):
            exit_.out.links.setdefault("k", link_keys(self.rt.store))
            exit_.out.links["chord"] = {"key": key, "i": index}

    def part(self, sig: Signature, *, held: bool, arg: bool, after: str | None) -> _Part:
        if isinstance(sig, chain | group | chord):
            sig = _first_options(_spread(_with_call(sig)))
        if isinstance(sig, chord):
            return self._chord(sig, held=held, arg=arg, after=after)
        if isinstance(sig, group):
            return self._group(sig.tasks, held=held, arg=arg, after=after)
        if isinstance(sig, chain):
            return self._chain(sig.tasks, held=held, arg=arg, after=after)
        return self.node(sig, held=held, arg=arg, after=after)

    def _chain(self, steps: list[Signature], *, held: bool, arg: bool,
               after: str | None) -> _Part:
        first = prev = self.part(steps[0], held=held, arg=arg, after=after)
        for step in steps[1:]:
            nxt = self.part(step, held=True, arg=True,
                            after=prev.exits[-1].out.run.id if prev.exits else after)
            self.connect(prev, nxt)
            nxt.result.parent = prev.result
            prev = nxt
        return _Part(first.entries, prev.exits, prev.result, prev.many)

    def _group(self, members: list[Signature], *, held: bool, arg: bool,
               after: str | None) -> _Part:
        parts = [self.part(m, held=held, arg=arg, after=after) for m in members]
        return _Part([n for p in parts for n in p.entries], [n for p in parts for n in p.exits],
                     GroupResult(None, [p.result for p in parts]), many=True)

    def _chord(self, sig: chord, *, held: bool, arg: bool, after: str | None) -> _Part:
        body = sig.body
        if body is None:
            raise ConfigurationError("a chord needs a body: chord(header)(body) or "
                                     "chord(header, body)()")
        header = self._group(sig.header.tasks, held=held, arg=arg, after=after)
        return self._chain_parts(header, body)

    def _chain_parts(self, header: _Part, body: Signature) -> _Part:
        last = header.exits[-1].out.run.id if header.exits else None
        tail = self.part(body, held=True, arg=True, after=last)
        self.connect(header, tail)
        tail.result.parent = header.result
        return _Part(header.entries, tail.exits, tail.result, tail.many)


def _eta(sig: Signature, options: Mapping[str, Any]) -> datetime | None:
    countdown, eta = options.get("countdown"), options.get("eta")
    if countdown is not None and eta is not None:
        raise ConfigurationError(f"{sig!r}: give countdown or eta, not both")
    if countdown is not None:
        return datetime.now(UTC) + timedelta(seconds=float(countdown))
    if eta is None:
        return None
    when = datetime.fromisoformat(eta) if isinstance(eta, str) else eta
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _with_call(sig: Signature) -> Signature:
    """Arguments given when the canvas is called go to its first task(s), as in Celery
    (a group: each member; a chord: its header)."""
    call = sig.options.get("_call")
    if not call:
        return sig
    args, kwargs = call["args"], call["kwargs"]
    options = {k: v for k, v in sig.options.items() if k != "_call"}
    if isinstance(sig, chain):
        steps = sig.tasks
        return chain(_with_call(_called(steps[0], args, kwargs)), *steps[1:], **options)
    if isinstance(sig, group):
        return group(*[_called(t, args, kwargs) for t in sig.tasks], **options)
    if isinstance(sig, chord):
        return chord([_called(t, args, kwargs) for t in sig.header.tasks], sig.body, **options)
    return sig.clone(args, kwargs)


def _called(sig: Signature, args: list[Any], kwargs: dict[str, Any]) -> Signature:
    if isinstance(sig, chain | group | chord):
        return _with_call(sig.clone(args, kwargs))
    return sig.clone(args, kwargs)


def _spread(sig: Signature) -> Signature:
    """A canvas's own link / link_error, as Celery applies them: a chain's link on its
    last task and link_error on every task; a chord's on its body; a group's on each."""
    options = sig.options
    link, errback = options.pop("link", None), options.pop("link_error", None)
    if not link and not errback:
        return sig
    if isinstance(sig, chord):
        body = sig.body
        if body is None:
            raise ConfigurationError("a chord needs a body: chord(header)(body) or "
                                     "chord(header, body)()")
        body = body.clone(**{k: v for k, v in (("link", link), ("link_error", errback)) if v})
        return chord(sig["kwargs"]["header"], body, **options)
    steps = sig.tasks if isinstance(sig, chain | group) else [sig]
    out = [s.clone(link_error=[*_listed(s.options.get("link_error")), *_listed(errback)])
           if errback else s for s in steps]
    if link and isinstance(sig, chain):
        out[-1] = out[-1].clone(link=[*_listed(out[-1].options.get("link")), *_listed(link)])
    elif link:
        out = [s.clone(link=[*_listed(s.options.get("link")), *_listed(link)]) for s in out]
    return type(sig)(*out, **options) if isinstance(sig, chain | group) else out[0]


def _listed(value: Any) -> list[Any]:
    """A ``link`` / ``link_error`` option as a list: Celery takes one signature (a dict) or
    a list of them."""
    if not value:
        return []
    if isinstance(value, dict):
        return [value]
    return list(value)


def _first_options(sig: Signature) -> Signature:
    """A canvas's other options (queue, priority, countdown, ...), as Celery applies them
    when it is sent: a chain's to its first task, a group's to each member, a chord's to
    each header task; the call's options win over a task's own. A task rejects the ones a
    canvas does not take (`_Builder.node`)."""
    options = sig.options
    if not options:
        return sig
    if isinstance(sig, chain):
        first, *rest = sig.tasks
        return chain(first.clone(**options), *rest)
    if isinstance(sig, group):
        return group(*[t.clone(**options) for t in sig.tasks])
    if isinstance(sig, chord):
        return chord([t.clone(**options) for t in sig.header.tasks], sig.body)
    return sig


def send(sig: Signature) -> Any:
    """Create and send every run of `sig` (a signature with links, a chain, a group or a
    chord); its result handle: a `CanvasResult` (a chain's: its last step's, with
    `.parent`; a chord's: its body's) or a `GroupResult`.

    Raises:
        ConfigurationError: an empty chord header, a chord with no body, an option a
            canvas does not take, countdown/eta on a task that waits for another.
        ParameterError: a task's arguments do not fit it (nothing is sent then).
    """
    rt = get_runtime()
    builder = _Builder(rt)
    part = builder.part(sig, held=False, arg=False, after=None)
    write_canvas(rt.store, builder.runs, builder.chords)
    for envelope in builder.publish:
        rt.dispatcher.publish(envelope)
    return part.result


SENDERS[:] = [send]
