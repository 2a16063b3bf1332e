"""Claiming a run: the one transition that makes this process the one running an attempt.

A message only says "go": the claim moves the run into Running (attempt 1) or Retrying
(a later attempt) only if its attempt number is the one before the message's, so a
duplicate delivery is refused. The claim returns what executing the run needs
(`ClaimedRun`); a refused claim is a duplicate to drop or a run to recover.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tasks_core.errors import StoreUnavailable
from tasks_core.process_runtime import HOST, Runtime
from tasks_core.records import RunOptions
from tasks_core.states import StateName
from tasks_core.store.runs import Outcome, Transition, utcnow

__all__ = ["CLAIM_FIELDS", "CLAIM_PATIENCE_S", "ClaimedRun", "apply_claim", "apply_claims",
           "claim", "give_back_given_up", "given_up", "take_given_up"]

log = logging.getLogger("tasks_core.recovery")

_COMMON = ("id", "name", "parameters", "queue", "priority", "options", "shadow", "headers")
CLAIM_FIELDS = {"task": (*_COMMON, "task_key", "parent_flow_run_id"),
                "flow": (*_COMMON, "deployment_id", "parent_task_run_id")}
"""What executing a run (and sending its next attempt) needs from the record, per kind
(the fewer, the cheaper the claim's reply)."""


def claim(run_id: str, attempt: int, owner: str, kind: str = "task") -> Transition:
    """The transition that makes `owner` (``host:pid``) the one running attempt `attempt`
    of a run of `kind` (``task`` or ``flow``: the Celery task that carries it says which).
    It writes a token of its own (field ``claim``), by which transition.lua knows it sent
    again and `engine.recovery.settle_given_up` knows it given up."""
    fields = {"attempt": str(attempt), "owner": owner, "worker": HOST,
              "claim": secrets.token_hex(6)}
    if attempt == 1:
        fields["start_time"] = utcnow().isoformat()
    target = StateName.RUNNING if attempt == 1 else StateName.RETRYING
    # an expired run (Celery's `expires`) is refused here, before it starts (engine.expiry)
    return Transition(run_id, target, kind=kind, fields=fields, expected_attempt=attempt - 1,
                      return_fields=CLAIM_FIELDS[kind], check_expiry=True)


CLAIM_PATIENCE_S = 300.0
"""How long `apply_claim` keeps sending a claim while Redis cannot be reached (seconds)."""


def apply_claim(rt: Runtime, change: Transition, before: Sequence[Transition] = (), *,
                patience_s: float = CLAIM_PATIENCE_S) -> Outcome:
    """Apply a `claim` now (after `before`, in the same round trip: the previous run's
    outcome in a chunk); its outcome.

    A claim Redis applied can come back refused by its own result: when the connection
    drops after Redis ran it and before the reply arrived, redis-py sends the pipeline again
    (its Retry), and the claim then finds the run in the state it wrote itself. Left so, the
    run would stay Running under a live owner that never runs it. transition.lua knows such
    a resend by the run's last history entry and the claim's token, and answers it as
    applied, with the fields it asks (as it does for every change sent again). For the same
    reason, while Redis cannot be reached (a restart, a failover: `StoreUnavailable` once
    the client's own retries ran out) the same claim is sent again, with backoff, for up to
    `patience_s`: giving up could leave a claim Redis applied with no one to run it.

    Raises:
        StoreUnavailable: Redis stayed away for `patience_s` (`before` is left to the
            caller, which hands it to the reporter). The claim is kept as given up: if
            Redis had applied it, its run would stay Running under this live process, so
            once Redis answers again the process's heartbeat recovers such a run
            (`engine.recovery.settle_given_up`).
    """
    return apply_claims(rt, [change], before, patience_s=patience_s)[0]


_GIVEN_UP: dict[str, tuple[str, int]] = {}
"""Claims this process gave up sending while Redis was away: run id -> (claim token,
attempt), for `engine.recovery.settle_given_up` (the newest `GIVEN_UP_MOST`)."""

GIVEN_UP_MOST = 10_000


_GIVEN_UP_LOCK = threading.Lock()  # task threads add, the heartbeat's settler takes


def given_up() -> bool:
    """Whether this process gave up claims that Redis may have applied (`apply_claims`)."""
    return bool(_GIVEN_UP)


def take_given_up() -> dict[str, tuple[str, int]]:
    """The claims given up (run id -> (claim token, attempt)), forgotten here: the caller
    gives back what it could not settle (`give_back_given_up`)."""
    with _GIVEN_UP_LOCK:
        taken = dict(_GIVEN_UP)
        _GIVEN_UP.clear()
    return taken


def give_back_given_up(claims: dict[str, tuple[str, int]]) -> None:
    """Keep claims given up (or taken by `take_given_up` and not settled yet)."""
    with _GIVEN_UP_LOCK:
        for run_id, value in claims.items():
            _GIVEN_UP.setdefault(run_id, value)
        while len(_GIVEN_UP) > GIVEN_UP_MOST:
            del _GIVEN_UP[next(iter(_GIVEN_UP))]


def apply_claims(rt: Runtime, changes: Sequence[Transition], before: Sequence[Transition] = (),
                 *, patience_s: float = CLAIM_PATIENCE_S,
                 before_outcomes: list[Outcome] | None = None,
                 raise_errors: bool = True) -> list[Outcome]:
    """`apply_claim` for several claims in one round trip (after `before`); their outcomes,
    in order. Each claim is atomic on its own: one refused leaves the others applied.
    `before_outcomes`, when given, gets the outcomes of `before`. A claim Redis answers
    with an error raises it (the others applied), or with `raise_errors=False` comes back
    not applied with its `error`.

    Raises:
        StoreUnavailable: as `apply_claim`.
    """
    deadline = time.monotonic() + patience_s
    pause = 0.5
    while True:
        try:
            return _applied_claims(rt, changes, before, before_outcomes, raise_errors)
        except StoreUnavailable:
            if time.monotonic() + pause > deadline:
                # Redis may have applied them (a reply lost with the connection): settled
                # once it answers again (`engine.recovery.settle_given_up`)
                give_back_given_up({c.run_id: (c.fields["claim"], int(c.fields["attempt"]))
                                    for c in changes})
                raise
            log.warning("run %s: Redis unreachable while claiming; trying again in %.1f s",
                        changes[0].run_id, pause)
            time.sleep(pause)
            pause = min(pause * 2, 10.0)


def _applied_claims(rt: Runtime, changes: Sequence[Transition], before: Sequence[Transition],
                    before_outcomes: list[Outcome] | None, raise_errors: bool) -> list[Outcome]:
    outcomes = rt.reporter.apply_now([*before, *changes], raise_errors=raise_errors)
    if before_outcomes is not None:
        before_outcomes[:] = outcomes[:len(before)]
    return outcomes[len(before):]


@dataclass(slots=True)
class ClaimedRun:
    """A run this process has claimed: the record fields execution needs, parsed."""

    id: str
    kind: str
    name: str
    attempt: int
    parameters: str = "{}"
    task_key: str = ""
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None
    deployment_id: str | None = None
    queue: str = ""
    priority: int = 0
    options: RunOptions = field(default_factory=RunOptions)
    root_id: str | None = None
    """Celery's ``root_id`` / ``parent_id`` its message arrived with (its next attempt's
    message carries them on)."""
    celery_parent_id: str | None = None
    shadow: str | None = None
    """Celery's ``shadow=`` name, ``headers=`` of the call (its messages carry them on)."""
    headers: str = ""

    @classmethod
    def from_fields(cls, fields: dict[str, str], attempt: int, kind: str) -> ClaimedRun:
        """From the fields a claim returned (`CLAIM_FIELDS`, empty strings for missing)."""
        return cls(
            id=fields["id"], kind=kind, name=fields.get("name", ""),
            attempt=attempt, parameters=fields.get("parameters") or "{}",
            task_key=fields.get("task_key", ""),
            parent_flow_run_id=fields.get("parent_flow_run_id") or None,
            parent_task_run_id=fields.get("parent_task_run_id") or None,
            deployment_id=fields.get("deployment_id") or None,
            queue=fields.get("queue", ""), priority=int(fields.get("priority") or 0),
            options=RunOptions.model_validate_json(fields.get("options") or "{}"),
            shadow=fields.get("shadow") or None, headers=fields.get("headers") or "")

    @property
    def argsrepr(self) -> str:
        """The start of the parameters' JSON (Celery's `argsrepr`)."""
        return self.parameters[:256]
