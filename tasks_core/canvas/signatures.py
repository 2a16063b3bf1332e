"""Signatures: a task call (task, args, kwargs, options) as data, Celery's `Signature`.

A `Signature` is a dict, as in Celery (canvas#canvas-signatures): ``{"task": <task key>,
"args": [...], "kwargs": {...}, "options": {...}, "subtask_type": None, "immutable":
False}``, JSON all the way down (a `link=` callback in `options` is a signature dict too),
so it can be stored and sent; `signature(d)` / `Signature.from_dict(d)` reads one back. The
task is named by its key (``module:qualname``) and resolved with `tasks_core.registry`.

Partial application is Celery's: ``add.s(2).delay(3)`` calls ``add(3, 2)`` (new positional
arguments go first, new keyword arguments update the signature's), and a chain passes the
previous step's result as the first argument unless the signature is immutable (``.si()``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tasks_core.errors import ConfigurationError, TaskNotFound

if TYPE_CHECKING:
    from tasks_core.canvas.primitives import chain
    from tasks_core.task import Task

__all__ = ["CANVAS_OPTIONS", "KINDS", "SENDERS", "Signature", "maybe_signature", "signature"]

KINDS: dict[str, type[Signature]] = {}
"""chain, group and chord by their subtask_type, registered by `canvas.primitives`."""

SENDERS: list[Callable[[Signature], Any]] = []
"""`canvas.send.send`, registered by it (the package imports it), so that signatures need
not import what sends them."""


def _send(sig: Signature) -> Any:
    return SENDERS[0](sig)


CANVAS_OPTIONS = frozenset({"queue", "priority", "countdown", "eta", "link", "link_error"})
"""Options a signature keeps when it runs as part of a canvas (chain step, chord member,
callback); alone, with no link, every option of `Task.apply_async` is passed through."""


def _json_options(options: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("link", "link_error"):
            items = value if isinstance(value, list | tuple) else [value]
            value = [dict(maybe_signature(item, owner=key)) for item in items]
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[key] = value
    return out


def _key_of_name(name: str) -> str:
    """The key of the task registered under Celery's name `name` (its module imported when
    that is Celery's default name, ``module.function``).

    Raises:
        ConfigurationError: no task by that name here (what to import, named).
    """
    from tasks_core.registry import resolve

    try:
        return resolve(name).key
    except TaskNotFound as exc:
        raise ConfigurationError(f"signature({name!r}): {exc}") from None


class Signature(dict[str, Any]):
    """One task call as data: ``add.s(2, 2)``, ``add.si(1)``, ``add.signature((2,), {})``.

    Raises:
        ConfigurationError: `task` is not a task (or task key), args is not a list or
            tuple, kwargs not a dict, or an option has no JSON form.
    """

    def __init__(self, task: Any = None, args: Iterable[Any] | None = None,
                 kwargs: Mapping[str, Any] | None = None,
                 options: Mapping[str, Any] | None = None, *, immutable: bool = False,
                 subtask_type: str | None = None, **more: Any) -> None:
        key = getattr(task, "key", task)
        if isinstance(key, str) and key and ":" not in key:
            key = _key_of_name(key)  # Celery's name ('proj.tasks.add'), as signature() takes
        if not isinstance(key, str) or ":" not in key:
            raise ConfigurationError(
                f"a signature needs a task (made with @task) or its key 'module:qualname', "
                f"got {task!r}")
        if args is not None and not isinstance(args, list | tuple):
            raise ConfigurationError(f"signature args must be a list or tuple, got {args!r}")
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise ConfigurationError(f"signature kwargs must be a dict, got {kwargs!r}")
        super().__init__(task=key, args=list(args or ()), kwargs=dict(kwargs or {}),
                         options=_json_options({**(options or {}), **more}),
                         subtask_type=subtask_type, immutable=bool(immutable))
        self._task: Any = task if not isinstance(task, str) else None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """A signature (or chain, group, chord) from its dict form (e.g. read from JSON)."""
        kind = data.get("subtask_type")
        if kind:
            if kind not in KINDS:
                raise ConfigurationError(f"unknown signature type {kind!r} (expected one of "
                                         f"{', '.join(sorted(KINDS))})")
            return KINDS[kind].from_dict(data)
        return cls(data.get("task"), data.get("args"), data.get("kwargs"),
                   data.get("options"), immutable=bool(data.get("immutable")))

    # -- the dict's parts, as Celery names them ----------------------------------------

    @property
    def task(self) -> str:
        """The task's key, ``module:qualname``."""
        return str(self["task"])

    @property
    def args(self) -> tuple[Any, ...]:
        return tuple(self["args"])

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self["kwargs"])

    @property
    def options(self) -> dict[str, Any]:
        return dict(self["options"])

    @property
    def immutable(self) -> bool:
        return bool(self["immutable"])

    @property
    def subtask_type(self) -> str | None:
        return self.get("subtask_type")

    @property
    def type(self) -> Task[Any, Any]:
        """The task (resolved from its key, importing its module when needed)."""
        if getattr(self, "_task", None) is None:
            from tasks_core.registry import resolve

            self._task = resolve(self.task)
        task: Task[Any, Any] = self._task
        return task

    @property
    def name(self) -> str:
        return self.type.name

    # -- building ----------------------------------------------------------------------

    def clone(self, args: Iterable[Any] | None = None, kwargs: Mapping[str, Any] | None = None,
              **options: Any) -> Signature:
        """A copy with more arguments (Celery's merge: new args first, then the
        signature's; an immutable signature keeps its own) and options."""
        own_args, own_kwargs = self.args, self.kwargs
        if not self.immutable:
            own_args = tuple(args or ()) + own_args
            own_kwargs = {**own_kwargs, **(kwargs or {})}
        made = Signature(self.task, own_args, own_kwargs, {**self.options, **options},
                         immutable=self.immutable)
        made._task = getattr(self, "_task", None)
        return made

    def set(self, immutable: bool | None = None, **options: Any) -> Signature:
        """Set options (queue=, countdown=, priority=, ...) in place; returns self."""
        if immutable is not None:
            self["immutable"] = bool(immutable)
        self["options"].update(_json_options(options))
        return self

    def set_immutable(self, immutable: bool) -> None:
        self["immutable"] = bool(immutable)

    def link(self, callback: Any) -> Any:
        """Run `callback` (a signature) with this call's result when it completes;
        returns the callback (Celery's `link`)."""
        self["options"].setdefault("link", []).append(dict(maybe_signature(callback)))
        return callback

    def link_error(self, errback: Any) -> Any:
        """Run `errback` with this run's id when it fails; returns the errback."""
        self["options"].setdefault("link_error", []).append(dict(maybe_signature(errback)))
        return errback

    def on_error(self, errback: Any) -> Signature:
        """`link_error`, returning self (so it chains)."""
        self.link_error(errback)
        return self

    def __or__(self, other: Any) -> chain:  # type: ignore[override]
        made: chain = KINDS["chain"](self, other)  # type: ignore[assignment]
        return made

    # -- calling -----------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the task now, in this process (Celery: the signature called directly)."""
        sig = self.clone(args, kwargs)
        return self.type(*sig.args, **sig.kwargs)

    def delay(self, *args: Any, **kwargs: Any) -> Any:
        """`apply_async(args, kwargs)`."""
        return self.apply_async(args, kwargs)

    def apply_async(self, args: Iterable[Any] | None = None,
                    kwargs: Mapping[str, Any] | None = None, **options: Any) -> Any:
        """Send the call (partial arguments merged). Without link/link_error it is the
        task's own `apply_async` with every option it takes; with them the callbacks are
        created held and released by the ledger (`tasks_core.canvas.send`).

        Returns:
            The run's result handle (`.get()`, `.id`, `.state`, ...).
        """
        sig = self.clone(args, kwargs, **options)
        opts = sig.options
        if not opts.get("link") and not opts.get("link_error"):
            opts.pop("link", None)
            opts.pop("link_error", None)
            return sig.type.apply_async(list(sig.args), sig.kwargs, **opts)
        return _send(sig)

    def __repr__(self) -> str:
        args = ", ".join([repr(a) for a in self.args]
                         + [f"{k}={v!r}" for k, v in self.kwargs.items()])
        name = self.task.rpartition(":")[2]
        return f"{name}({args}){'!' if self.immutable else ''}"


def signature(varies: Any, *args: Any, **kwargs: Any) -> Signature:
    """Celery's `signature`: from a dict (a stored signature) or a task and its call:
    ``signature(add, args=(2, 2), countdown=10)`` or ``signature("mod:add", (2, 2))``."""
    if isinstance(varies, Mapping):
        if isinstance(varies, Signature):
            return varies
        return Signature.from_dict(varies)
    return Signature(varies, *args, **kwargs)


def maybe_signature(value: Any, owner: str = "signature") -> Signature:
    """`value` as a Signature (a dict is read back); ConfigurationError naming `owner`
    when it is neither."""
    if isinstance(value, Signature):
        return value
    if isinstance(value, Mapping):
        return Signature.from_dict(value)
    raise ConfigurationError(f"{owner} must be a signature (e.g. add.s(1)), got {value!r}")
