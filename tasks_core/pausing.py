"""Pausing a flow run for input, resuming it, and ending pauses nobody resumed.

Prefect 3's semantics (`prefect.flow_runs`), by their import line in `tasks_core.flow_runs`:

- `pause_flow_run(wait_for_input=None, timeout=3600, key=None)` inside a flow: the run goes
  Paused (event ``tasks-core.flow-run.Paused``) and the body blocks, on a Redis BLPOP (a push
  wait, no polling of the run), until `resume_flow_run` hands it its input: the run goes
  Running again and the call returns the input, validated by `wait_for_input` (a pydantic
  model, e.g. a `tasks_core.input.RunInput` subclass), or None. Not resumed within
  `timeout` seconds: `PauseTimeout` is raised in the body, so the run ends Failed (Prefect's
  ``FlowPauseTimeout``) unless the body catches it.
- `suspend_flow_run(...)`: see `tasks_core.suspending` (the attempt ends, the slot is freed).
- `resume_flow_run(flow_run_id, run_input=None)` from any process: `run_input` is checked
  against the JSON schema stored with the pause (the input model's); a bad one raises
  pydantic's ``ValidationError`` and the run stays Paused.
- Each pause of a run has a key (given, or ``pause-1``, ``pause-2``... in call order); a
  resumed key is remembered with its input, so a re-run of the flow (a suspended one)
  passes that pause at once with the same input, as Prefect's pause keys do.

Owners (README "Who moves a run on"): the paused process ends its own expired pause (at
its deadline); beat's sweeper ends one whose process is gone, `PAUSE_GRACE_SECONDS` after
its deadline (Paused -> Failed); `tasks-core flow-run cancel` ends it Cancelled.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, Field

from tasks_core.engine.context import current_run
from tasks_core.errors import (
    InvalidTransition,
    TaskCancelled,
    TasksCoreError,
    ValidationError,
)
from tasks_core.process_runtime import Runtime, get_runtime
from tasks_core.states import StateName, is_terminal
from tasks_core.store.runs import Transition

__all__ = [
    "PAUSE_GRACE_SECONDS",
    "Pause",
    "PauseError",
    "PauseTimeout",
    "dispatch",
    "expire_pauses",
    "forget_keys",
    "next_key",
    "pause_flow_run",
    "resume_flow_run",
    "send_again",
    "validate_input",
]

M = TypeVar("M", bound=BaseModel)

PAUSE_GRACE_SECONDS = 10.0
"""How long after a pause's deadline beat's sweeper waits before it ends the pause itself
(the paused process, when alive, ends its own at the deadline)."""

WAIT_SLICE_SECONDS = 2.0
"""Longest one BLPOP blocks before the paused process looks at its run again (cancelled,
failed by the sweeper?); well under the client's socket timeout (5 s), which a longer
blocking read would trip."""


class PauseError(TasksCoreError, RuntimeError):
    """A pause asked for where there can be none (outside a flow run, in a task run, a
    suspend of a flow run with no deployment)."""


class PauseTimeout(TasksCoreError):
    """Raised in a paused flow's body when no resume came within its timeout (Prefect's
    ``FlowPauseTimeout``): the run then ends Failed, unless the body catches it."""


class Pause(BaseModel):
    """An open pause of a flow run (stored as JSON at ``p:pause:<run id>``).

    Attributes:
        run_id: the flow run.
        key: the pause's key (given, or ``pause-<n>`` in call order within the run).
        input_schema: the JSON schema the resume's input must match (None: no input).
        timeout_seconds: how long it waits; deadline: when it expires (UTC).
        suspend: the attempt ended (`suspend_flow_run`): a resume sends the run again.
    """

    run_id: str
    key: str
    input_schema: dict[str, Any] | None = None
    timeout_seconds: float
    deadline: datetime
    suspend: bool = False
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))


_counts: dict[str, int] = {}
_counts_lock = threading.Lock()


_COUNTS_KEPT = 10_000
"""Most runs whose pause count a process keeps (the oldest is forgotten beyond it)."""


def next_key(run_id: str) -> str:
    """The next automatic pause key of `run_id` in this execution: ``pause-1``, ``pause-2``...
    (a suspended run's count restarts with its re-run: `forget_keys`)."""
    with _counts_lock:
        _counts[run_id] = _counts.pop(run_id, 0) + 1
        if len(_counts) > _COUNTS_KEPT:
            del _counts[next(iter(_counts))]
        return f"pause-{_counts[run_id]}"


def forget_keys(run_id: str) -> None:
    """Restart the automatic pause keys of `run_id` (its execution here ended)."""
    with _counts_lock:
        _counts.pop(run_id, None)


def check_request(wait_for_input: Any, timeout: float, key: str | None) -> None:
    """Refuse a bad `wait_for_input`, `timeout` or `key` (ValidationError naming it)."""
    if wait_for_input is not None and not (isinstance(wait_for_input, type)
                                           and issubclass(wait_for_input, BaseModel)):
        raise ValidationError(f"wait_for_input must be a pydantic model class (e.g. a RunInput "
                              f"subclass), not {wait_for_input!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValidationError(f"pause timeout must be a positive number of seconds, not "
                              f"{timeout!r}")
    if key is not None and (not isinstance(key, str) or not key or len(key) > 200):
        raise ValidationError("pause key must be non-empty text of at most 200 characters")


def current_flow_run(what: str) -> str:
    """The id of the flow run executing here; PauseError in a task run or outside runs."""
    frame = current_run.get()
    if frame is None or frame.kind != "flow":
        where = "a task run" if frame is not None else "no run"
        raise PauseError(f"{what} must be called in a flow's body (here: {where}); Prefect "
                         "cannot pause task runs either")
    return frame.run_id


def validate_input(model: type[M] | None, input_json: str) -> M | None:
    """The input a resume handed over, as an instance of `model` (None without a model)."""
    return None if model is None else model.model_validate_json(input_json)


def in_event_loop() -> bool:
    """Whether this thread runs an asyncio event loop (Prefect then returns coroutines)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def dispatch(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(...)`` now; called from a running event loop, a coroutine running it in a thread
    (with this context) instead, so ``await pause_flow_run(...)`` in an async flow waits
    without blocking the loop (Prefect's async dispatch)."""
    if in_event_loop():
        return asyncio.to_thread(fn, *args, **kwargs)
    return fn(*args, **kwargs)


def _move(rt: Runtime, run_id: str, target: StateName, message: str) -> tuple[bool, str]:
    """Apply one checked transition of a flow run now; (applied, its state after)."""
    outcome = rt.reporter.apply_now([Transition(run_id, target, message=message,
                                                kind="flow")])[0]
    return outcome.applied, (target.value if outcome.applied else outcome.state)


def open_pause(rt: Runtime, pause: Pause, *, grace: float) -> None:
    """Record `pause` and move its run Running -> Paused (InvalidTransition when the run is
    not Running, e.g. being cancelled: the pause is withdrawn)."""
    rt.pauses.open(pause.run_id, pause.model_dump_json(), pause.deadline.timestamp() + grace)
    how = "suspended" if pause.suspend else "paused"
    applied, state = _move(rt, pause.run_id, StateName.PAUSED,
                           f"{how} ({pause.key}): waiting up to {pause.timeout_seconds:g} s "
                           "for `tasks-core flow-run resume`")
    if not applied:
        rt.pauses.take(pause.run_id)
        if state in (StateName.CANCELLING, StateName.CANCELLED):
            raise TaskCancelled(run_id=pause.run_id)
        raise InvalidTransition(f"flow run {pause.run_id} is {state}; it cannot pause")


def pause_flow_run(wait_for_input: type[M] | None = None, timeout: float = 3600,
                   poll_interval: float | None = None, key: str | None = None) -> M | None:
    """Pause the flow run executing here until it is resumed (Prefect's `pause_flow_run`).

    Args:
        wait_for_input: a pydantic model class (e.g. a `RunInput` subclass) the resume's
            input must match; its JSON schema is stored with the pause. None: no input.
        timeout: seconds to wait for a resume (default one hour).
        poll_interval: accepted for Prefect's signature; unused (the wait is pushed).
        key: the pause's key (default ``pause-<n>`` in call order); a key already resumed
            in this run returns its input at once (a re-run passes it).

    Returns:
        The validated input (an instance of `wait_for_input`), or None.

    Raises:
        PauseError: not in a flow's body. ValidationError: bad arguments.
        PauseTimeout: no resume within `timeout`. TaskCancelled: cancelled while paused.

    In an async flow it returns a coroutine to await (as Prefect's does); the wait then
    runs in a thread, so the event loop is not blocked.
    """
    del poll_interval
    check_request(wait_for_input, timeout, key)
    run_id = current_flow_run("pause_flow_run")
    result: M | None = dispatch(_pause, run_id, wait_for_input, timeout, key)
    return result


def _pause(run_id: str, wait_for_input: type[M] | None, timeout: float,
           key: str | None) -> M | None:
    key = key or next_key(run_id)
    rt = get_runtime()
    done = rt.pauses.resumed(run_id, key)
    if done is not None:
        return validate_input(wait_for_input, done)
    schema = wait_for_input.model_json_schema() if wait_for_input is not None else None
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    open_pause(rt, Pause(run_id=run_id, key=key, input_schema=schema, timeout_seconds=timeout,
                         deadline=deadline), grace=PAUSE_GRACE_SECONDS)
    return validate_input(wait_for_input, _wait(rt, run_id, timeout))


def _wait(rt: Runtime, run_id: str, timeout: float) -> str:
    """Block until a resume hands over the input (its JSON); at the deadline take the pause
    back and raise PauseTimeout (a resume that took it first wins)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if rt.pauses.take(run_id) is not None:
                _move(rt, run_id, StateName.RUNNING, "pause timed out")
                raise PauseTimeout(f"flow run {run_id} was not resumed within {timeout:g} s")
            remaining = WAIT_SLICE_SECONDS  # a resume took it: its input is on its way
        got = rt.pauses.wait_input(run_id, min(remaining, WAIT_SLICE_SECONDS))
        if got is not None:
            _move(rt, run_id, StateName.RUNNING, "resumed")  # the resume did it, unless lost
            return got
        state = rt.store.state_of(run_id) or StateName.CANCELLED
        if is_terminal(state):
            rt.pauses.take(run_id)  # the run ended while paused: its pause goes with it
            if state == StateName.CANCELLED:
                raise TaskCancelled(run_id=run_id)
            raise PauseTimeout(f"flow run {run_id} ended {state} while paused")


def _checked_input(pause: Pause, run_input: dict[str, Any] | None) -> str:
    """The resume's input as JSON, checked against the pause's schema (pydantic's
    ValidationError when it does not match; ValidationError for input nobody waits for)."""
    if pause.input_schema is None:
        if run_input is not None:
            raise ValidationError(f"flow run {pause.run_id} is not waiting for input (its "
                                  "pause has no wait_for_input): resume it without one")
        return "null"
    from tasks_core.engine.schema_model import model_from_schema

    model = model_from_schema(pause.input_schema, str(pause.input_schema.get("title", "Input")))
    checked = model.model_validate(run_input if run_input is not None else {})
    return json.dumps(checked.model_dump(mode="json", by_alias=True))


def resume_flow_run(flow_run_id: str, run_input: dict[str, Any] | None = None,
                    ) -> Awaitable[None] | None:
    """Resume a paused (or suspended) flow run, from any process (Prefect's
    `resume_flow_run`).

    Args:
        flow_run_id: the paused flow run.
        run_input: the input its pause waits for (a dict matching its input model).

    Raises:
        RunNotFound: no such run. InvalidTransition: it is not paused (or already resumed).
        pydantic.ValidationError: `run_input` does not match the pause's input model (the run
            stays Paused). ValidationError: input given to a pause that takes none.

    From a running event loop it returns a coroutine to await, as Prefect's does.
    """
    done: Awaitable[None] | None = dispatch(_resume, str(flow_run_id), run_input)
    return done


def _resume(flow_run_id: str, run_input: dict[str, Any] | None) -> None:
    rt = get_runtime()
    raw = rt.pauses.get(flow_run_id)
    if raw is None:
        state = rt.store.get(flow_run_id).state  # RunNotFound for an unknown run
        raise InvalidTransition(f"flow run {flow_run_id} is {state}, not paused: nothing to "
                                "resume")
    now_in = rt.store.state_of(flow_run_id)
    if now_in != StateName.PAUSED:  # e.g. cancelled while paused: the pause is stale
        rt.pauses.take(flow_run_id)
        raise InvalidTransition(f"flow run {flow_run_id} is {now_in}, not paused: nothing "
                                "to resume")
    pause = Pause.model_validate_json(raw)
    input_json = _checked_input(pause, run_input)
    if rt.pauses.take(flow_run_id, input_json=input_json, push=not pause.suspend,
                      key=pause.key) is None:
        raise InvalidTransition(f"flow run {flow_run_id} was resumed or timed out meanwhile")
    if pause.suspend:
        send_again(rt, flow_run_id)
    else:
        _move(rt, flow_run_id, StateName.RUNNING, "resumed")


def send_again(rt: Runtime, run_id: str) -> None:
    """A resumed suspended run: Paused -> Pending (attempt count reset), and its message
    sent again; any worker of its pool claims it."""
    # attempt 0: the re-run is claimed as attempt 1 (Pending -> Running), a fresh start
    # with its retries whole, as the flow runs again from its first line
    outcome = rt.reporter.apply_now([Transition(run_id, StateName.PENDING, kind="flow",
                                                message="resumed: sent again",
                                                fields={"attempt": "0"})])[0]
    if outcome.applied:
        from tasks_core.engine.sending import send_next

        send_next(rt, [rt.store.get(run_id)])


def expire_pauses(rt: Runtime, now: datetime, limit: int = 100) -> list[str]:
    """End the pauses past their deadline (and grace) that nobody ended: Paused -> Failed.
    Beat's sweeper calls it each sweep; the ids of the runs it failed."""
    failed = []
    for run_id in rt.pauses.expired(now.timestamp(), limit):
        raw = rt.pauses.take(run_id)
        if raw is None:
            continue
        pause = Pause.model_validate_json(raw)
        applied, _ = _move(rt, run_id, StateName.FAILED,
                           f"pause {pause.key} timed out after {pause.timeout_seconds:g} s: "
                           "not resumed")
        if applied:
            failed.append(run_id)
    return failed


def describe_input_error(exc: pydantic.ValidationError) -> str:
    """pydantic's errors of a resume's input as one line (``field: message; ...``)."""
    return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())) or 'input'}: {e['msg']}"
                     for e in exc.errors()[:10])
