"""`chain`, `group` and `chord`: Celery's canvas primitives (canvas#canvas-chain, -group,
-chord), as signatures of signatures.

Their dict form is Celery's: ``{"task": "celery.chain", "kwargs": {"tasks": [...]},
"subtask_type": "chain", ...}`` (``group``: ``kwargs.tasks``; ``chord``: ``kwargs.header``
and ``kwargs.body``), JSON all the way down.

Calling one (``chain(a.s(), b.s())()``, ``.apply_async()``, ``.delay()``) creates all its
runs at once (`tasks_core.canvas.send`): the first ones are sent, the rest wait (Paused) and
are released by the ledger when what they wait for ends. So no process waits on a result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tasks_core.canvas.signatures import KINDS, Signature, _send, maybe_signature
from tasks_core.errors import ConfigurationError

__all__ = ["CANVAS_TYPES", "chain", "chord", "group"]


def _flat(tasks: tuple[Any, ...]) -> list[Any]:
    """`chain(a, b)` or `chain([a, b])` (a generator too) -> [a, b]."""
    if len(tasks) == 1 and not isinstance(tasks[0], Mapping):
        return list(tasks[0])
    return list(tasks)


class _Canvas(Signature):
    """What chain, group and chord share: a dict of signatures, sent by `canvas.send`."""

    kind = ""

    def _init(self, kwargs: dict[str, Any], options: Mapping[str, Any] | None) -> None:
        dict.__init__(self, task=f"celery.{self.kind}", args=[], kwargs=kwargs,
                      options=dict(options or {}), subtask_type=self.kind, immutable=False)
        self._task = None

    @property
    def type(self) -> Any:
        raise ConfigurationError(f"a {self.kind} is not a single task")

    @property
    def name(self) -> str:
        return f"celery.{self.kind}"

    def clone(self, args: Iterable[Any] | None = None, kwargs: Mapping[str, Any] | None = None,
              **options: Any) -> Signature:
        made = Signature.from_dict(dict(self))
        made["options"] = {**self.options, **options}
        if args or kwargs:
            made["options"]["_call"] = {"args": list(args or ()), "kwargs": dict(kwargs or {})}
        return made

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Send it (Celery: calling a chain, group or chord applies it asynchronously)."""
        return self.apply_async(args, kwargs)

    def apply_async(self, args: Iterable[Any] | None = None,
                    kwargs: Mapping[str, Any] | None = None, **options: Any) -> Any:
        """Send it; `args` / `kwargs` go to its first task(s), as in Celery."""
        return _send(self.clone(args, kwargs, **options))


class chain(_Canvas):
    """Tasks run one after another, each result the first argument of the next
    (``chain(add.s(2, 2), add.s(4))`` or ``add.s(2, 2) | add.s(4)``). The result is the
    last step's, with `.parent` the step before. A step that fails ends the steps after it
    Failed with the same error (Celery 5 marks them so); its link_error runs.
    """

    kind = "chain"

    def __init__(self, *tasks: Any, **options: Any) -> None:
        steps = [dict(maybe_signature(t, owner="a chain step")) for t in _flat(tasks)]
        if not steps:
            raise ConfigurationError("a chain needs at least one task")
        self._init({"tasks": steps}, options)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> chain:
        return cls(*data["kwargs"]["tasks"], **dict(data.get("options") or {}))

    @property
    def tasks(self) -> list[Signature]:
        return [maybe_signature(t) for t in self["kwargs"]["tasks"]]

    def __or__(self, other: Any) -> chain:  # type: ignore[override]
        return chain(*self.tasks, *(other.tasks if isinstance(other, chain) else [other]),
                     **self.options)


class group(_Canvas):
    """Tasks run in parallel (``group(add.s(i, i) for i in range(10))``); the result is a
    `GroupResult` of theirs, in order. ``group | task`` is a chord."""

    kind = "group"

    def __init__(self, *tasks: Any, **options: Any) -> None:
        members = [dict(maybe_signature(t, owner="a group member")) for t in _flat(tasks)]
        self._init({"tasks": members}, options)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> group:
        return cls(*data["kwargs"]["tasks"], **dict(data.get("options") or {}))

    @property
    def tasks(self) -> list[Signature]:
        return [maybe_signature(t) for t in self["kwargs"]["tasks"]]

    def __len__(self) -> int:
        return len(self["kwargs"]["tasks"])

    def __or__(self, other: Any) -> Any:
        """``group(...) | callback`` is ``chord(group, callback)`` (Celery upgrades it)."""
        if isinstance(other, _Canvas):
            return chain(self, other)
        return chord(self, other)

    def __bool__(self) -> bool:
        return True


class chord(_Canvas):
    """A group (the header) whose results, as a list in header order, are the first
    argument of one callback (the body): ``chord(header)(callback)`` or
    ``chord(header, body)()``. The body runs exactly once, when the last header run
    completes (a counter decremented in the runs' terminal transitions). If a header run
    does not complete, the body is not run: it ends Failed with Celery's `ChordError`
    naming that run, and its link_error runs.
    """

    kind = "chord"

    def __init__(self, header: Any, body: Any = None, **options: Any) -> None:
        members = header.tasks if isinstance(header, group) else _flat((header,))
        head = [dict(maybe_signature(t, owner="a chord header member")) for t in members]
        if not head:
            raise ConfigurationError("a chord needs at least one header task")
        self._init({"header": head,
                    "body": dict(maybe_signature(body, owner="a chord body"))
                    if body is not None else None}, options)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> chord:
        kw = data["kwargs"]
        return cls(kw["header"], kw.get("body"), **dict(data.get("options") or {}))

    @property
    def header(self) -> group:
        return group(*self["kwargs"]["header"])

    @property
    def body(self) -> Signature | None:
        body = self["kwargs"]["body"]
        return None if body is None else maybe_signature(body)

    def __call__(self, body: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``chord(header)(callback)`` sends header and callback; ``chord(h, b)()`` too."""
        if body is not None and self.body is None:
            return chord(self["kwargs"]["header"], body, **self.options).apply_async(
                args, kwargs)
        if body is not None:
            args = (body, *args)
        return self.apply_async(args, kwargs)

    def link_error(self, errback: Any) -> Any:
        """Celery attaches a chord's errback to its body."""
        body = self.body
        if body is None:
            raise ConfigurationError("give the chord its body before link_error")
        body.link_error(errback)
        self["kwargs"]["body"] = dict(body)
        return errback


CANVAS_TYPES: dict[str, type[Signature]] = {"chain": chain, "group": group, "chord": chord}
KINDS.update(CANVAS_TYPES)
