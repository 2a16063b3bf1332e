"""A `.map()` chunk's deferred outcome refused because its run was being cancelled meanwhile
ends the run Cancelled (`workers.execute`): when written with the next claims
(`cancelled_meanwhile`) and when the reporter writes it later, Redis having gone away
(`_cancelled_after`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tasks_core.states import StateName
from tasks_core.store.runs import Outcome, Transition
from workers.execute import _cancelled_after, cancelled_meanwhile

DONE = Transition("r1", StateName.COMPLETED, outcome=True, expected_attempt=1)


def test_only_a_refused_outcome_of_a_cancelling_run_calls_for_cancelled() -> None:
    cancelling = Outcome(applied=False, state=StateName.CANCELLING)
    ends = cancelled_meanwhile([DONE, DONE], [Outcome(applied=True), cancelling])
    assert len(ends) == 1 and ends[0].target == StateName.CANCELLED
    assert ends[0].message == "cancelled; the attempt ended Completed" and ends[0].outcome
    claim = Transition("r2", StateName.RUNNING)  # not an outcome: nothing to end
    assert cancelled_meanwhile([claim], [cancelling]) == []
    assert cancelled_meanwhile([DONE], [Outcome(applied=False, state="Failed")]) == []


def test_the_reporters_late_write_ends_it_cancelled_too() -> None:
    written: list[Any] = []
    rt: Any = SimpleNamespace(reporter=SimpleNamespace(
        transition=lambda change, **kw: written.append((change, kw))))
    after = _cancelled_after(rt, DONE)
    after(Outcome(applied=True))
    assert written == []
    after(Outcome(applied=False, state=StateName.CANCELLING))
    [(change, kw)] = written
    assert change.run_id == "r1" and change.target == StateName.CANCELLED and kw["urgent"]
