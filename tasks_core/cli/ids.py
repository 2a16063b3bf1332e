"""Short ids, like git's short hashes: shown in tables, accepted wherever an id is taken.

A table shows each id's first `SHORT_ID` characters, grown until it is unique among the
ids listed (`short_ids`). A command given an id takes the run with exactly that id, else
the one run whose id starts with it (`resolve_run`); a prefix that starts several ids is
refused with the matches listed (at most `SHOWN_MATCHES`), an unknown one says not found.
The look-up of prefixes is the store's (`RunIndexes.ids_starting`: a bounded ZSCAN of the
by-time index of one kind of run).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from tasks_core.errors import RunNotFound, ValidationError

if TYPE_CHECKING:
    from tasks_core.store.run_indexes import RunIndexes
    from tasks_core.store.runs import RunStore

__all__ = ["SHORT_ID", "SHOWN_MATCHES", "ambiguous", "resolve_run", "short_ids"]

SHORT_ID = 8
"""Characters of an id a table shows at least (the demo prints the same 8)."""

SHOWN_MATCHES = 10
"""Most matching ids an ambiguous-prefix error lists."""


def short_ids(ids: Iterable[str], minimum: int = SHORT_ID) -> dict[str, str]:
    """Each id -> its shortest start of at least `minimum` characters that starts no other
    id of `ids` (the whole id when it is itself the start of another).

    >>> short_ids(["9488840d-aa", "9488840d-ab", "17c2e0f1-00"])
    {'17c2e0f1-00': '17c2e0f1', '9488840d-aa': '9488840d-aa', '9488840d-ab': '9488840d-ab'}
    """
    ordered = sorted(set(ids))
    shared = [0] * len(ordered)  # longest common start with a neighbour, in sorted order
    for i in range(1, len(ordered)):
        common = _common_start(ordered[i - 1], ordered[i])
        shared[i - 1] = max(shared[i - 1], common)
        shared[i] = max(shared[i], common)
    return {run_id: run_id[:max(minimum, shared[i] + 1)] for i, run_id in enumerate(ordered)}


def _common_start(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def ambiguous(noun: str, prefix: str, matches: Sequence[str], *, more: bool) -> ValidationError:
    """The error for a prefix that starts several ids: the first `SHOWN_MATCHES` listed."""
    shown = ", ".join(matches[:SHOWN_MATCHES])
    rest = " and more" if more or len(matches) > SHOWN_MATCHES else ""
    return ValidationError(f"{noun} id {prefix!r} is ambiguous: it starts {shown}{rest}; "
                           "give more of it")


def resolve_run(store: RunStore, indexes: RunIndexes, key: str, kind: str) -> str:
    """The id of the run named by `key`: an exact id, else a unique start of one.

    Prefixes are looked up among runs of `kind` (``task`` | ``flow``) first, then among the
    other kind, so a command given the other kind's id can say so. Surrounding spaces are
    ignored.

    Raises:
        RunNotFound: no run has that id and no id starts with it; names `key`.
        ValidationError: `key` is empty, or starts several ids (they are listed).
    """
    key = key.strip()
    if not key:
        raise ValidationError(f"empty {kind} run id: give an id or a unique start of one")
    if store.state_of(key) is not None:
        return key
    other = "flow" if kind == "task" else "task"
    for where in (kind, other):
        matches = indexes.ids_starting(where, key, limit=SHOWN_MATCHES + 1)
        if len(matches) > 1 and where != kind:
            raise RunNotFound(f"no {kind} run starts with {key!r} (several {where} runs do: "
                              f"see `tasks-core {where}-run ls`)")
        if len(matches) > 1:
            raise ambiguous(f"{where} run", key, sorted(matches),
                            more=len(matches) > SHOWN_MATCHES)
        if matches:
            return matches[0]
    raise RunNotFound(f"run {key!r} not found: no run has that id or starts with it "
                      "(ended runs expire after TASKS_CORE_RUN_TTL_SECONDS, failed ones "
                      "after TASKS_CORE_FAILED_RUN_TTL_SECONDS)")
