"""What a task call does with its inputs before the run starts, as Prefect documents it
(docs.prefect.io/v3/how-to-guides/workflows/run-work-concurrently, src/prefect/tasks.py):

- ``wait_for=[f, ...]``: wait for those runs; a run that did not complete stops this one
  (`UpstreamFailed`) unless it is wrapped in ``allow_failure(f)``.
- futures among the arguments (also inside lists, tuples, sets and dicts) are replaced by
  their values; a failed one stops the run (`UpstreamFailed`), or with ``allow_failure``
  gives its exception; ``quote(x)`` passes `x` as it is; ``unmapped(x)`` is `x`.
- `.map()` (`map_calls`): every argument that is iterable (not a str, bytes or file) is
  mapped over, positional or keyword; ``unmapped(x)`` and non-iterables are passed whole
  to every run; mapped iterables of different lengths are a ParameterError.
"""

from __future__ import annotations

import inspect
import io
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from tasks_core.annotations import BaseAnnotation, allow_failure, quote, unmapped
from tasks_core.errors import ParameterError, UpstreamFailed
from tasks_core.futures import TaskFuture

if TYPE_CHECKING:
    from tasks_core.task import Task

__all__ = ["has_futures", "is_future", "map_calls", "resolve_inputs", "wait_upstream"]

_CONTAINERS = (list, tuple, set, frozenset, dict)
_SCALARS = frozenset({int, float, str, bytes, bool, type(None)})
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def is_future(value: Any) -> bool:
    """Whether `value` is a run's future (`TaskFuture`, `InProcessFuture`: a class that
    says so with ``is_run_future = True``)."""
    return isinstance(value, TaskFuture) or getattr(type(value), "is_run_future", False)


def has_futures(value: Any) -> bool:
    """Whether resolving `value` would change it (a future or an annotation in it).

    Iterative, so a deeply nested argument cannot exhaust the stack; each container is
    looked into once (a list that holds itself ends the search)."""
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _SCALARS:
            continue
        if isinstance(item, BaseAnnotation) or is_future(item):
            return True
        if isinstance(item, _CONTAINERS) and id(item) not in seen:
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return False


def _upstream_error(future: Any, exc: BaseException) -> UpstreamFailed:
    error = UpstreamFailed(
        f"upstream run {future.id} ({future.name}) did not complete: "
        f"{type(exc).__name__}: {exc}; wrap it in allow_failure(...) to run anyway",
        run_id=future.id, state="Failed", error_type=type(exc).__name__)
    error.__cause__ = exc
    return error


def _value_of(future: Any, allowed: bool) -> Any:
    # TaskFuture's own method: a Celery-style AsyncResult has `result` as a property
    getter = TaskFuture.result if isinstance(future, TaskFuture) else type(future).result
    outcome = getter(future, raise_on_failure=False)
    if isinstance(outcome, BaseException):
        if allowed:
            return outcome
        raise _upstream_error(future, outcome)
    return outcome


def resolve_inputs(value: Any, *, allowed: bool = False) -> Any:
    """`value` with futures replaced by their values (waiting for them) and annotations
    unwrapped; ``quote(x)`` gives `x` untouched.

    Raises:
        UpstreamFailed: a future's run did not complete (not under ``allow_failure``).
    """
    if isinstance(value, quote):
        return value.value
    if isinstance(value, allow_failure):
        return resolve_inputs(value.value, allowed=True)
    if isinstance(value, unmapped):
        return resolve_inputs(value.value, allowed=allowed)
    if is_future(value):
        return _value_of(value, allowed)
    if isinstance(value, dict):
        return {k: resolve_inputs(v, allowed=allowed) for k, v in value.items()}
    if isinstance(value, _CONTAINERS):
        return type(value)(resolve_inputs(v, allowed=allowed) for v in value)
    return value


def wait_upstream(wait_for: Iterable[Any] | None, timeout: float | None = None) -> None:
    """Wait for every run in `wait_for` (futures, or ``allow_failure(future)``).

    Raises:
        UpstreamFailed: one of them did not complete and is not under ``allow_failure``.
        ParameterError: an item is not a future.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    for item in wait_for or ():
        allowed = isinstance(item, allow_failure)
        future = item.value if isinstance(item, BaseAnnotation) else item
        if not is_future(future):
            raise ParameterError(f"wait_for takes futures (from .submit(), .map() or "
                                 f".delay()), got {type(future).__name__}: {future!r:.80}")
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        (TaskFuture.wait if isinstance(future, TaskFuture) else type(future).wait)(future, left)
        _value_of(future, allowed)


def _iterable(value: Any) -> bool:
    """Prefect's ``isiterable``: iterable, and not a str, bytes or file."""
    if isinstance(value, str | bytes | io.IOBase):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return True


def map_calls(task: Task[Any, Any], args: Sequence[Any],
              kwargs: dict[str, Any]) -> list[tuple[list[Any], dict[str, Any]]]:
    """The `(args, kwargs)` of each run of ``task.map(*args, **kwargs)``, in order.

    A future given whole is resolved first (its value may be the list to map over).

    Raises:
        ParameterError: the arguments do not fit the signature, nothing is iterable, or
            the mapped iterables differ in length (naming each one and its length).
    """
    parameters = task.parameters.bind(tuple(args), kwargs)
    kinds = {name: p.kind for name, p in task.parameters.signature.parameters.items()}
    mapped: dict[str, list[Any]] = {}
    static: dict[str, Any] = {}
    for name, value in parameters.items():
        kind = kinds.get(name)
        if is_future(value):
            value = resolve_inputs(value)
        if isinstance(value, unmapped):
            static[name] = value.value
        elif (isinstance(value, BaseAnnotation) or not _iterable(value)
              or kind in _VARIADIC):
            static[name] = value
        else:
            mapped[name] = list(value)
    if not mapped:
        raise ParameterError(f"{task.name}.map(): no iterable argument to map over; give "
                             "at least one list (or other iterable) argument")
    lengths = {name: len(values) for name, values in mapped.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ParameterError(f"{task.name}.map(): the mapped arguments differ in length "
                             f"({shown}); give iterables of one length, or pass a value "
                             "whole with unmapped(...)")
    count = next(iter(lengths.values()))
    calls = []
    for i in range(count):
        call = {**static, **{name: values[i] for name, values in mapped.items()}}
        args_i, kwargs_i = task.parameters.arguments(call)
        calls.append((args_i, kwargs_i))
    return calls


def prepare_call(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
                 ) -> tuple[tuple[Any, ...], dict[str, Any], UpstreamFailed | None]:
    """A direct call's arguments made ready: ``wait_for=`` taken out (when the task has
    no parameter of that name) and waited for, futures resolved. Returns ``(args, kwargs,
    None)``, or the arguments as given and the `UpstreamFailed` that stops the run (the
    caller records the run as Failed with it). Costs one scan of the arguments when there
    is nothing to do."""
    wait_for = None
    if "wait_for" in kwargs and "wait_for" not in task.parameters.signature.parameters:
        kwargs = dict(kwargs)
        wait_for = kwargs.pop("wait_for")
    if wait_for is None and not has_futures(args) and not has_futures(kwargs):
        return args, kwargs, None
    try:
        wait_upstream(wait_for)
        return resolve_inputs(args), resolve_inputs(kwargs), None
    except UpstreamFailed as exc:
        return args, kwargs, exc
