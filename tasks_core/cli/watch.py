"""Following a run from the command line: each state change as it happens, then its end.

State changes are read from the run's own history (`RunStore.history_since`), not
from the `p:events` stream. The history holds one run's states only, complete and in
order: the transition script adds to it in the same atomic step that changes the state,
so no change is missed however quickly several follow each other (polling the record's
`state` field would miss a Running that lasts less than a poll), and reading it is one
HGETALL of the record, whose fields h1..hn hold it (`tasks_core/state_history.py`). The
event stream holds every run's events (a follower would read and drop all the others) and
is trimmed. Between reads the follower blocks on
the run's done channel (`RunStore.wait`, pushed), so the terminal state shows at once and an
intermediate one within `POLL_SECONDS`; each line shows when the state was entered (from
the entry), not when it was read.

On a terminal the lines print above a rich status spinner naming the current state and the
time waited; elsewhere (pipes, CI logs) they are plain lines, ``HH:MM:SS State``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from rich.text import Text

from tasks_core.cli.output import console, format_duration, state_text
from tasks_core.records import StateEntry
from tasks_core.states import is_terminal

__all__ = ["POLL_SECONDS", "RunHistory", "change_line", "follow", "watch_run"]

POLL_SECONDS = 0.5
"""Most seconds between two reads of a run's history while it is not terminal."""


class RunHistory(Protocol):
    """What following a run reads (`tasks_core.store.runs.RunStore` is one)."""

    def history_since(self, run_id: str, start: int = 0) -> list[StateEntry]: ...

    def wait(self, run_id: str, timeout: float | None) -> bool: ...


def change_line(entry: StateEntry) -> Text:
    """``14:02:07 Running``: when the state was entered (local time), the state in its
    colour, and its message in brackets when it has one."""
    stamp = entry.timestamp.astimezone().strftime("%H:%M:%S")
    return Text.assemble(stamp, " ", state_text(entry.name.value, entry.message))


def follow(
    runs: RunHistory,
    run_id: str,
    timeout: float | None,
    on_change: Callable[[StateEntry], None],
    *,
    on_tick: Callable[[float], None] | None = None,
    poll: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Call `on_change` with each state entry of the run, once each and in order, from
    the first, until the run is terminal (True) or `timeout` seconds pass (False).

    `on_tick(seconds waited)` is called before each wait (at most every `poll` seconds);
    `clock` is monotonic seconds (injected by tests).

    Raises:
        RunNotFound: the run does not exist or expired while waited on.
    """
    start = clock()
    seen = 0
    while True:
        entries = runs.history_since(run_id, seen)
        seen += len(entries)
        for entry in entries:
            on_change(entry)
        if entries and is_terminal(entries[-1].name):
            return True
        waited = clock() - start
        left = None if timeout is None else timeout - waited
        if left is not None and left <= 0:
            return False
        if on_tick is not None:
            on_tick(waited)
        if runs.wait(run_id, poll if left is None else min(poll, left)):
            for entry in runs.history_since(run_id, seen):  # the terminal one (and any before)
                on_change(entry)
            return True


def watch_run(runs: RunHistory, run_id: str, timeout: float | None) -> bool:
    """Print each state change of a run as it happens until it ends (True) or `timeout`
    seconds pass (False): plain lines when stdout is not a terminal, and a spinner with
    the current state under them when it is."""
    if not console.is_terminal:
        return follow(runs, run_id, timeout,
                      lambda entry: console.print(change_line(entry), soft_wrap=True))
    current = ["waiting"]

    def label(waited: float) -> Text:
        return Text.assemble(state_text(current[0]), f"  waited {format_duration(waited)}")

    with console.status(label(0.0)) as status:
        def changed(entry: StateEntry) -> None:
            current[0] = entry.name.value
            console.print(change_line(entry), soft_wrap=True)

        return follow(runs, run_id, timeout, changed,
                      on_tick=lambda waited: status.update(label(waited)))
