"""Who is connected to a Redis: tasks-core names its connections, CLIENT LIST reads them.

Every connection tasks-core opens through `store.connection` (and the embedded Redis's
probes) carries a client name (``CLIENT SETNAME``) of the form
``tasks-core:<role>:<pid>@<host>``: role is the command the process runs (``worker``,
``beat``, ``up``, ``flower``, ...; the program's name outside the CLI) and pid its process
id. `redis_users` reads them back, so `tasks-core down` can say what still uses the
embedded Redis. Connections without such a name (Celery's broker connections, other
programs) are reported by address.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tasks_core.errors import StoreUnavailable

__all__ = ["PROBE_ROLE", "RedisUser", "client_name", "parse_client_name", "process_role",
           "redis_users", "set_role"]

PROBE_ROLE = "probe"
"""Role of the short-lived connections that only check a server is there."""

HOST = socket.gethostname()
_PREFIX = "tasks-core"
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-]")  # Redis refuses spaces and newlines in names
_NAME = re.compile(rf"^{_PREFIX}:(?P<role>[^:]+):(?P<pid>\d+)@(?P<host>.+)$")



def _program() -> str:
    """This program's name: ``celery``, ``pytest``; a package run with -m by its name."""
    path = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("python")
    return path.parent.name if path.name == "__main__.py" else path.name


_role = _UNSAFE.sub("-", _program()) or "python"


def set_role(role: str) -> None:
    """Name this process's future connections after `role` (e.g. the CLI command)."""
    global _role
    _role = _UNSAFE.sub("-", role) or "python"


def process_role() -> str:
    """The role this process's connections are named after."""
    return _role


def client_name(role: str | None = None) -> str:
    """``tasks-core:<role>:<pid>@<host>``, for this process (its role unless given)."""
    return f"{_PREFIX}:{_UNSAFE.sub('-', role or _role)}:{os.getpid()}@{_UNSAFE.sub('-', HOST)}"


def parse_client_name(name: str) -> tuple[str, int, str] | None:
    """``(role, pid, host)`` of a tasks-core client name; None for any other name."""
    found = _NAME.match(name)
    return (found["role"], int(found["pid"]), found["host"]) if found else None


@dataclass(frozen=True, order=True)
class RedisUser:
    """A process (or, unnamed, one connection) using a Redis server.

    Attributes:
        role: the tasks-core command it runs (``worker``, ``beat``, ...), or ``""`` when
            the connection is not a tasks-core one.
        pid: its process id (None when unnamed).
        host: the host it runs on (the client address when unnamed).
    """

    role: str
    pid: int | None
    host: str

    def describe(self) -> str:
        """``worker (pid 4242)``; another host is named; an unnamed one by address."""
        if not self.role:
            return f"a connection from {self.host}"
        where = "" if self.host == _UNSAFE.sub("-", HOST) else f" on {self.host}"
        return f"{self.role} (pid {self.pid}{where})"


def redis_users(url: str, *, timeout: float = 2.0) -> list[RedisUser]:
    """The processes connected to the Redis at `url` (CLIENT LIST), sorted, one entry per
    process: this process and probes excluded; unnamed connections one entry each.

    Raises:
        StoreUnavailable: the server cannot be reached.
    """
    client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=timeout,
                                  socket_timeout=timeout, retry=Retry(NoBackoff(), 0),
                                  client_name=client_name(PROBE_ROLE))
    try:
        connected = client.client_list()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise StoreUnavailable(f"cannot list the clients of Redis at {url}: {exc}") from exc
    finally:
        client.close()
    me = (os.getpid(), _UNSAFE.sub("-", HOST))
    users: set[RedisUser] = set()
    for entry in connected:
        parsed = parse_client_name(str(entry.get("name", "")))
        if parsed is None:
            users.add(RedisUser("", None, str(entry.get("addr", "?"))))
        elif parsed[0] != PROBE_ROLE and (parsed[1], parsed[2]) != me:
            users.add(RedisUser(*parsed))
    return sorted(users, key=lambda user: (user.role == "", user.role, user.pid or 0,
                                           user.host))
