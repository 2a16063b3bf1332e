"""Workers as Celery nodes: their names, and what `tasks-core worker ls` shows of them.

A Celery node name reads ``name@host``. Two live workers must never share one: Celery's
remote control, its events and Flower key workers by node name, so two workers named
``default@host`` show as one. A worker therefore holds a lease on its name in Redis
(`tasks_core.store.nodes`), renewed by its heartbeat and released when it stops:

- `tasks-core worker` without ``--hostname`` takes the first free name of
  ``<pools>@<host>``, ``<pools>-2@<host>``, ``<pools>-3@<host>``, ... (`candidate_names`);
- a name given with ``--hostname`` (or Celery's ``-n``) is taken if free, and refused
  with an error naming its holder if another live worker has it;
- a lease whose holder was a process of this host that no longer exists (a SIGKILLed
  worker restarted within the heartbeat timeout) is taken over at once (`is_stale`);
  any other lease frees itself when its heartbeat stops, after the heartbeat timeout.

Everything here is pure; Redis is reached through `tasks_core.store.nodes.NodeLeases`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from celery.utils.nodenames import default_nodename, host_format
from pydantic import BaseModel, Field

from tasks_core.proc import pid_alive

__all__ = ["MAX_NUMBERED", "NodeInfo", "candidate_names", "is_stale", "lease_token",
           "node_name", "token_owner"]

MAX_NUMBERED = 999
"""Most numbered names tried (``<pools>-999@host``) before giving up."""


class NodeInfo(BaseModel):
    """What a worker says of itself in its heartbeat (`tasks-core worker ls`)."""

    node: str
    """Celery node name, ``name@host``."""
    host: str
    pid: int
    """Process id of the worker's main process on `host`."""
    pools: list[str] = Field(default_factory=list)
    """Work pools it serves (each also a queue)."""
    queues: list[str] = Field(default_factory=list)
    """Every Celery queue it consumes: its pools' queues and extra ``-Q`` queues."""
    concurrency: int | None = None
    """Child processes or threads (the maximum when autoscaling); None before it starts."""
    autoscale: tuple[int, int] | None = None
    """``(max, min)`` processes when ``--autoscale`` is on."""
    pool_impl: str = "prefork"
    """Celery execution pool: prefork, threads or solo."""
    active: int = 0
    """Celery tasks executing now (a `.map()` chunk runs one run at a time: it counts once;
    a flow's task runs in the flow's own threads are not counted)."""
    started: datetime = Field(default_factory=lambda: datetime.now(UTC))
    last_seen: datetime = Field(default_factory=lambda: datetime.now(UTC))


def node_name(hostname: str) -> str:
    """`hostname` as Celery reads ``--hostname``: ``name@host`` with ``%h``, ``%n``, ``%d``
    expanded; a bare ``host`` becomes ``celery@host``."""
    return str(host_format(default_nodename(hostname)))


def candidate_names(pools: Sequence[str], host: str | None = None) -> Iterator[str]:
    """Default node names of a worker of `pools`, in the order they are tried:
    ``a+b@host``, ``a+b-2@host``, ... up to `MAX_NUMBERED`."""
    base = "+".join(pools)
    where = host or socket.gethostname()
    yield f"{base}@{where}"
    for number in range(2, MAX_NUMBERED + 1):
        yield f"{base}-{number}@{where}"


def lease_token(host: str | None = None, pid: int | None = None) -> str:
    """A lease holder's token: ``host:pid:random`` (random: a restarted process with the
    same pid is still another holder)."""
    return f"{host or socket.gethostname()}:{pid or os.getpid()}:{os.urandom(4).hex()}"


def token_owner(token: str) -> tuple[str, int] | None:
    """``(host, pid)`` of a lease token; None when it does not read ``host:pid:random``."""
    host, sep, rest = token.partition(":")
    pid_text, sep2, _ = rest.partition(":")
    if not sep or not sep2 or not pid_text.isdigit():
        return None
    return host, int(pid_text)


def is_stale(token: str, *, host: str | None = None, pid: int | None = None,
             alive: Callable[[int], bool] = pid_alive) -> bool:
    """Whether a lease held by `token` is left over: its holder was a process of this
    host (`host`) that is gone, or that is this very process (`pid`) asking again after
    a restart that kept its pid (a container's pid 1). Leases of other hosts are never
    stale here: they expire on their own when their heartbeat stops."""
    owner = token_owner(token)
    if owner is None:
        return False
    holder_host, holder_pid = owner
    if holder_host != (host or socket.gethostname()):
        return False
    return holder_pid == (pid or os.getpid()) or not alive(holder_pid)
