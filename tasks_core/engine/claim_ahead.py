"""How many runs of a `.map()` chunk a worker claims in one round trip.

A chunk's runs execute one after another in one process. Claiming each as it starts costs
a round trip per run (with the previous run's outcome), which for short tasks is most of
the run's cost. So while the chunk's runs are short, a worker claims the next few together
(the window) and writes their outcomes with the next window's claims, as TCP's slow start
grows its window: the first window is one run; each window after is at most twice the
last, at most `most` runs (setting ``map_claim_ahead``), and no more than the runs that
fit in `CLAIM_AHEAD_BUDGET_S` at the last window's pace (so runs slower than the budget
bring it back to one).

What that trades: a run claimed in a window shows Running from the window's claim until
its body starts, after the runs before it in the window: about the budget while they keep
their pace, longer if one of them is much slower than the ones before it (its
``start_time`` is rewritten with its real start, with its outcome). A cancel request heard
before it starts skips its body (`engine.stopping`). If the process is killed mid-window,
the window's runs are found Running under a dead process and recovered as crashed attempts
(retried while they have retries, else Crashed), as the run it was executing is, though
some had not started and some had ended. With ``map_claim_ahead = 1`` each run is claimed
as it starts.
"""

from __future__ import annotations

__all__ = ["CLAIM_AHEAD_BUDGET_S", "next_window"]

CLAIM_AHEAD_BUDGET_S = 0.005
"""About the longest a run claimed in a window waits for the runs before it (seconds)."""


def next_window(window: int, ran: int, elapsed_s: float, most: int,
                budget_s: float = CLAIM_AHEAD_BUDGET_S) -> int:
    """The next window's size after `ran` runs of a window of `window` took `elapsed_s`
    seconds in all (claims refused in it are not counted): at most twice `window`, at most
    `most`, no more runs than fit in `budget_s` at that pace, at least 1."""
    if most <= 1:
        return 1
    if ran <= 0:
        return window  # nothing ran (duplicates, expired runs): no new pace to go by
    pace = elapsed_s / ran
    if pace >= budget_s:
        return 1
    fit = int(budget_s / pace) if pace > 0 else most
    return max(1, min(window * 2, most, fit))
