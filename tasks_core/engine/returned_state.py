"""A task or flow body that returns a `State` ends in that state (Prefect's documented
behaviour, docs.prefect.io/v3/concepts/states: "a returned State sets the final state").

- ``return Completed(data=x)`` (or a completed run's state) completes with the value `x`.
- ``return Failed(message="bad input")`` fails with that state message; the caller gets
  ``FailedRun("bad input")`` (or the exception given as ``data=``). Not retried: the body
  chose the outcome.
- ``Crashed``, ``Cancelled`` and ``TimedOut`` end the run in that state the same way.
- A state that is not final (``Running()``, ``Pending()``) fails the run with a message
  saying so: a run never stays open because its body returned one.

Pure: no I/O (a returned state of another run reads its stored value only when asked).
"""

from __future__ import annotations

from typing import Any

from tasks_core.engine.outcome import Ended
from tasks_core.errors import FailedRun
from tasks_core.records import ErrorInfo
from tasks_core.states import State, StateName, StateType

__all__ = ["settle_returned"]


def _failure(state: State, message: str, elapsed: float) -> Ended:
    name = state.name if state.is_final() else StateName.FAILED
    exc = state.exception or FailedRun(message, run_id=state.run_id, state=name)
    # The error's type is the state's own name: `Fail.message` then gives the message alone.
    return Ended(ok=False, error=ErrorInfo(type=name.value, message=message), exc=exc,
                 elapsed=elapsed, retryable=False, crashed=name is StateName.CRASHED,
                 timed_out=name is StateName.TIMED_OUT,
                 cancelled=state.type is StateType.CANCELLED)


def settle_returned(value: Any, elapsed: float) -> tuple[Any, Ended | None]:
    """What a body's return value means: ``(value, None)`` to settle as usual (the value
    itself, or a returned Completed state's data), or ``(None, ended)`` for a returned
    state that ends the run otherwise."""
    if not isinstance(value, State):
        return value, None
    if value.is_completed():
        return value.result(raise_on_failure=False), None
    if not value.is_final():
        return None, _failure(value, f"the body returned a {value.name.value} state; a "
                              "task or flow may return only a final state", elapsed)
    return None, _failure(value, value.message or f"the body returned "
                          f"{value.name.value}()", elapsed)
