"""Redis connections: the configured URL, else the embedded Redis, with clear errors.

Every connection to the embedded Redis is named after this process's role
(`set_process_role`; see `store/clients.py`), so `tasks-core down` can tell who uses it
(a Redis you run is left unnamed: its ACLs may refuse CLIENT SETNAME). A process
whose role only reads (`tasks-core flow-run ls`, ...) never starts the embedded Redis: it
is told that it is not running instead.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
import redis.client
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import NoScriptError
from redis.retry import Retry

from tasks_core.errors import StoreRefusing, StoreUnavailable
from tasks_core.settings import Settings
from tasks_core.store.clients import PROBE_ROLE, client_name, set_role

__all__ = ["STORE_LOST", "LedgerRedis", "StoreError", "connect", "redis_url",
           "refuses_writes", "safe_url", "set_process_role", "unavailable"]

StoreError = redis.RedisError
"""Any error of the Redis client (StoreUnavailable, a lost Redis, is one): for code outside
the store that reports failures without importing redis."""

_LOST = (redis.ConnectionError, redis.TimeoutError)
STORE_LOST: tuple[type[Exception], ...] = _LOST
"""The client errors that mean Redis could not be reached (StoreUnavailable is one of them):
for code outside the store that answers "unavailable, try again" without importing redis."""

_REFUSING_CODES = frozenset({"OOM", "READONLY", "MISCONF", "BUSY", "NOREPLICAS",
                              "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"})
_REFUSING_TYPES = (redis.exceptions.OutOfMemoryError, redis.exceptions.ReadOnlyError,
                   redis.exceptions.ClusterDownError, redis.exceptions.TryAgainError)


def refuses_writes(reply: object) -> bool:
    """Whether a reply (an error a pipeline returned, or one an inner script call returned)
    is Redis refusing writes for now rather than refusing this write: its error code is
    OOM (full, with ``noeviction``), READONLY (a replica), MISCONF (a failing save), BUSY
    (another script runs), NOREPLICAS, MASTERDOWN, TRYAGAIN or CLUSTERDOWN. Such a write
    did not apply, and the same write may apply later (`errors.StoreRefusing`)."""
    if isinstance(reply, _REFUSING_TYPES):
        return True
    return (isinstance(reply, redis.ResponseError)
            and str(reply).split(" ", 1)[0] in _REFUSING_CODES)


_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}
_start_embedded = True


def set_process_role(role: str, *, start_embedded: bool = True) -> None:
    """Name this process's Redis connections after `role` (the CLI command it runs), and
    say whether it may start the embedded Redis (False: a command that only reads)."""
    global _start_embedded
    set_role(role)
    _start_embedded = start_embedded


def redis_url(settings: Settings) -> str:
    """The Redis URL in use: the configured one, else the embedded server's (started if need
    be, unless this process only reads).

    Raises:
        StoreUnavailable: the embedded Redis is not running and this process may not start it.
        ConfigurationError: the embedded Redis cannot be started (see `ensure_embedded`).
    """
    if settings.redis_url:
        return settings.redis_url
    from tasks_core.store.embedded import embedded_status, ensure_embedded

    if _start_embedded:
        return ensure_embedded(settings).url
    found = embedded_status(settings)
    if found is None:
        raise StoreUnavailable(
            f"the embedded Redis (data in {settings.data_dir.expanduser()}) is not running and "
            "this command only reads: start it with `tasks-core up` (or `tasks-core worker`), "
            "or set TASKS_CORE_REDIS_URL to use a Redis you run")
    return found.url


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _where(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


def unavailable(client: redis.Redis, exc: Exception) -> StoreUnavailable:
    """The StoreUnavailable for a lost connection of `client`, naming where Redis was (for
    connections the client's commands do not cover: pub/sub)."""
    return StoreUnavailable(f"lost Redis at {_where(client)} (retries ran out): {exc}")


class LedgerRedis(redis.Redis):
    """The ledger's client: commands retry with backoff when Redis goes away, then raise
    StoreUnavailable naming where Redis was (never the password); a command Redis refuses
    because it refuses every write for now (`refuses_writes`) raises StoreRefusing. Its
    pipelines check that their Lua scripts are loaded once, not before every pipeline
    (see `_LedgerPipeline`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loaded_scripts: set[str] = set()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except StoreUnavailable:
            raise
        except _LOST as exc:
            raise unavailable(self, exc) from exc
        except redis.ResponseError as exc:
            if refuses_writes(exc):  # full (OOM), a replica, ...: an outage of writes
                raise StoreRefusing(f"Redis at {_where(self)} refuses writes for now: "
                                    f"{exc}") from exc
            raise

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        return _LedgerPipeline(self.connection_pool, self.response_callbacks, transaction,
                               shard_hint, owner=self)


class _LedgerPipeline(redis.client.Pipeline):
    """A pipeline whose lost connection also becomes StoreUnavailable, and which does not
    ask Redis whether its scripts exist before every execution.

    redis-py sends SCRIPT EXISTS before each pipeline that holds a script: a whole round
    trip on every claim and every batch. Here scripts are checked the first time this
    client runs them; if Redis lost them since (a restart, SCRIPT FLUSH), the NOSCRIPT
    replies say so: the scripts are loaded again and only the refused commands are run
    again, in order (a refused EVALSHA did nothing).
    """

    def __init__(self, *args: Any, owner: LedgerRedis, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = owner

    def load_scripts(self) -> None:
        loaded = self._owner.loaded_scripts
        if any(script.sha not in loaded for script in self.scripts):
            super().load_scripts()  # type: ignore[no-untyped-call]
            loaded.update(script.sha for script in self.scripts)

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = list(self.command_stack)
        scripts = list(self.scripts)
        try:
            results = super().execute(raise_on_error=False)
            refused = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
            if refused:
                self._owner.loaded_scripts.clear()
                for script in scripts:
                    script.sha = str(self._owner.script_load(script.script))
                    self._owner.loaded_scripts.add(script.sha)
                for i in refused:
                    args, options = stack[i]
                    try:
                        results[i] = self._owner.execute_command(*args, **options)
                    except redis.ResponseError as exc:
                        results[i] = exc
                    except StoreRefusing as exc:  # the reply Redis gave, as the others'
                        results[i] = exc.__cause__ if exc.__cause__ is not None else exc
        except StoreUnavailable:
            raise
        except _LOST as exc:
            raise unavailable(self._owner, exc) from exc
        if raise_on_error:
            for result in results:
                if isinstance(result, Exception):
                    raise result
        return results


def connect(settings: Settings, *, retries: int | None = None) -> redis.Redis:
    """A shared client for this process, checked with PING.

    Retries with exponential backoff (settings.connect_retries), then raises StoreUnavailable
    naming the URL.
    """
    url = redis_url(settings)
    # Only the embedded Redis's connections are named: a Redis you run may refuse CLIENT
    # SETNAME (ACLs), and only `tasks-core down` of the embedded one reads the names.
    named = settings.redis_url is None
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = LedgerRedis.from_url(
                url, decode_responses=True, health_check_interval=30,
                client_name=client_name() if named else None,
                retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), settings.connect_retries))
            _clients[url] = client
    attempts = settings.connect_retries if retries is None else retries
    delay = 0.1
    probe = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0),  # our own backoff below
                                 client_name=client_name(PROBE_ROLE) if named else None)
    for attempt in range(attempts + 1):
        try:
            probe.ping()
            probe.close()
            return client
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            if attempt == attempts:
                probe.close()
                raise StoreUnavailable(
                    f"cannot reach Redis at {safe_url(url)}: {exc} "
                    "(is redis-server running? set TASKS_CORE_REDIS_URL, or unset it for the "
                    "embedded Redis)"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")
