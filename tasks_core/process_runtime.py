"""The per-process runtime: settings, Redis client, the stores, reporter, Celery app.

Built lazily on first use and rebuilt after a fork (prefork worker children get their own
reporter thread and connections). Redis is reached only through the stores of
`tasks_core.store`, one per job: `store` (the run ledger), `schedules`, `due`, `locks`,
`procs`, `nodes`, `pools`, `deployments`, `automations`, `webhooks`, `events` (the stream; `emitter`
buffers writes to it), `cancels`, `idempotency`, `cache`, `queues`, `deadletters`,
`indexes`, `server`, `artifacts`, `pauses`, `variables`, `concurrency_limits` and
`demo_counters`; `client` is theirs.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import redis
from celery import Celery

from tasks_core.engine.contact import RedisContact
from tasks_core.settings import Settings, get_settings
from tasks_core.store.artifacts import ArtifactStore
from tasks_core.store.automations import AutomationStore
from tasks_core.store.cache import ResultCache
from tasks_core.store.cancels import CancelRequests
from tasks_core.store.concurrency_limits import ConcurrencyLimitStore
from tasks_core.store.connection import connect
from tasks_core.store.counters import DemoCounters
from tasks_core.store.deadletters import DeadLetterStore
from tasks_core.store.deployments import DeploymentStore
from tasks_core.store.due import DueSet
from tasks_core.store.engine import EngineStore
from tasks_core.store.events import EventStore
from tasks_core.store.expiry import ExpiryIndex
from tasks_core.store.heartbeats import Heartbeats
from tasks_core.store.idempotency import IdempotencyKeys
from tasks_core.store.locks import LeaderLocks
from tasks_core.store.metrics import MetricsStore
from tasks_core.store.nodes import NodeLeases
from tasks_core.store.pauses import PauseStore
from tasks_core.store.queues import BrokerQueues
from tasks_core.store.rate_limits import RateBuckets
from tasks_core.store.reporter import Reporter
from tasks_core.store.run_indexes import RunIndexes
from tasks_core.store.runs import RunStore
from tasks_core.store.schedules import ScheduleIndex
from tasks_core.store.server import ServerInfo
from tasks_core.store.variables import VariableStore
from tasks_core.store.webhooks import WebhookStore
from tasks_core.store.work_pools import WorkPoolStore

if TYPE_CHECKING:
    from tasks_core.events.client import EventClient

__all__ = ["Runtime", "get_runtime", "reset_runtime", "set_serving_queues"]

HOST = socket.gethostname()


@dataclass
class Runtime:
    """Everything a process needs to record and send runs."""

    settings: Settings

    @cached_property
    def client(self) -> redis.Redis:
        return connect(self.settings)

    @cached_property
    def store(self) -> RunStore:
        """The run ledger: run records, their states, results and logs."""
        return RunStore(self.client, self.settings)

    @cached_property
    def schedules(self) -> ScheduleIndex:
        """Beat's schedule index and schedule marks."""
        return ScheduleIndex(self.client, self.store.keys)

    @cached_property
    def cancels(self) -> CancelRequests:
        """The channel that tells the process running a run to stop it."""
        return CancelRequests(self.client, self.store.keys)

    @cached_property
    def due(self) -> DueSet:
        """Runs waiting for their time, and the channel that wakes beat."""
        return DueSet(self.client, self.store.keys)

    @cached_property
    def expiring(self) -> ExpiryIndex:
        """Runs sent with an expiry time (Celery's ``expires``), for beat's sweeper."""
        return ExpiryIndex(self.client, self.store.keys)

    @cached_property
    def rate_limits(self) -> RateBuckets:
        """Token buckets of rate-limited tasks, shared by every worker."""
        return RateBuckets(self.client, self.store.keys)

    @cached_property
    def locks(self) -> LeaderLocks:
        """Leader locks (beat's)."""
        return LeaderLocks(self.client, self.store.keys)

    @cached_property
    def contact(self) -> RedisContact:
        """This process's contact with Redis as its regular loop reports it (a worker
        process's heartbeat; beat's lock, whose period beat sets): a missing heartbeat
        counts as a death only once contact has held for a heartbeat timeout since it was
        first reported and last lost (`engine.contact`)."""
        settings = self.settings
        return RedisContact(settings.heartbeat_timeout_seconds,
                            settings.heartbeat_interval_seconds)

    @cached_property
    def procs(self) -> Heartbeats:
        """Heartbeats of worker processes and of pool workers."""
        return Heartbeats(self.client, self.store.keys)

    @cached_property
    def nodes(self) -> NodeLeases:
        """Leases on workers' Celery node names, and their descriptions (`worker ls`)."""
        return NodeLeases(self.client, self.store.keys)

    @cached_property
    def pools(self) -> WorkPoolStore:
        """Work pool records, their gate and parked runs."""
        return WorkPoolStore(self.client, self.store.keys)

    @cached_property
    def deployments(self) -> DeploymentStore:
        """Deployment records."""
        return DeploymentStore(self.client, self.store.keys)

    @cached_property
    def automations(self) -> AutomationStore:
        """Automation records, their name and owner indexes, the change channel."""
        return AutomationStore(self.client, self.store.keys)

    @cached_property
    def webhooks(self) -> WebhookStore:
        """Webhook records, their name and slug indexes, rate counters, replay marks."""
        return WebhookStore(self.client, self.store.keys)

    @cached_property
    def variables(self) -> VariableStore:
        """Variables (`tasks_core.variables`): name -> JSON record."""
        return VariableStore(self.client, self.store.keys)

    @cached_property
    def concurrency_limits(self) -> ConcurrencyLimitStore:
        """Concurrency limits (`tasks_core.concurrency`): records, leases, slots."""
        return ConcurrencyLimitStore(self.client, self.store.keys)

    @cached_property
    def engine(self) -> EngineStore:
        """The trigger engine's consumer group, state, pending firings and claims."""
        return EngineStore(self.client, self.store.keys)

    @cached_property
    def idempotency(self) -> IdempotencyKeys:
        """Deployments' idempotency keys (one run per key)."""
        return IdempotencyKeys(self.client, self.store.keys)

    @cached_property
    def cache(self) -> ResultCache:
        """Cached task results."""
        return ResultCache(self.client, self.store.keys)

    @cached_property
    def queues(self) -> BrokerQueues:
        """Depth of Celery queues on this Redis."""
        return BrokerQueues(self.client, self.store.keys)

    @cached_property
    def deadletters(self) -> DeadLetterStore:
        """Messages a worker could not run, set aside with the reason."""
        return DeadLetterStore(self.client, self.store.keys,
                               max_entries=self.settings.deadletter_max)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        """Artifacts of runs (`tasks_core.artifacts`), kept as long as runs."""
        return ArtifactStore(self.client, self.store.keys,
                             ttl_seconds=self.settings.run_ttl_seconds)

    @cached_property
    def pauses(self) -> PauseStore:
        """Open pauses of flow runs and the input resumes hand over (`tasks_core.pausing`)."""
        return PauseStore(self.client, self.store.keys, ttl_seconds=self.settings.run_ttl_seconds)

    @cached_property
    def metrics(self) -> MetricsStore:
        """What `/metrics` reads at scrape time."""
        return MetricsStore(self.client, self.store.keys)

    @cached_property
    def indexes(self) -> RunIndexes:
        """Batch reads of run children, trimming of expired runs' index entries."""
        return RunIndexes(self.client, self.store.keys)

    @cached_property
    def server(self) -> ServerInfo:
        """The Redis server: ping, maxmemory-policy."""
        return ServerInfo(self.client)

    @cached_property
    def demo_counters(self) -> DemoCounters:
        """Counters of the demo's tasks."""
        return DemoCounters(self.client, self.store.keys)

    @cached_property
    def events(self) -> EventStore:
        """The event stream: batched writes (once per id), reads, retention."""
        return EventStore(self.client, self.store.keys,
                          max_entries=self.settings.event_retention,
                          max_age_seconds=self.settings.event_retention_seconds)

    @cached_property
    def emitter(self) -> EventClient:
        """This process's buffered event client (`tasks_core.events.emit_event`)."""
        from tasks_core.events.client import EventClient

        return EventClient(self.events, interval_ms=self.settings.event_flush_interval_ms,
                           buffer_max=self.settings.event_buffer_max)

    @cached_property
    def reporter(self) -> Reporter:
        return Reporter(
            self.store,
            interval_ms=self.settings.batch_interval_ms,
            batch_size=self.settings.batch_size,
            linger_ms=self.settings.batch_linger_ms,
        )

    @cached_property
    def app(self) -> Celery:
        from tasks_core.celery_app import create_app

        return create_app(self.settings)

    @cached_property
    def dispatcher(self):  # type: ignore[no-untyped-def]  # avoids an import cycle at load
        from tasks_core.dispatch import Dispatcher

        return Dispatcher(self.app, self.settings)

    @property
    def serving_queues(self) -> frozenset[str]:
        """Queues this process's worker serves (set by the worker; empty elsewhere)."""
        return _serving_queues

    @property
    def owner(self) -> str:
        """This process as a run owner: ``host:pid``."""
        return f"{HOST}:{os.getpid()}"


_serving_queues: frozenset[str] = frozenset()


def set_serving_queues(queues: frozenset[str]) -> None:
    """Called by the worker before it forks: the queues its processes serve."""
    global _serving_queues
    _serving_queues = queues


_lock = threading.Lock()
_runtime: Runtime | None = None
_runtime_pid = 0


def get_runtime() -> Runtime:
    """The runtime of this process (rebuilt in a forked child)."""
    global _runtime, _runtime_pid
    pid = os.getpid()
    if _runtime is None or _runtime_pid != pid:
        with _lock:
            if _runtime is None or _runtime_pid != pid:
                _runtime = Runtime(get_settings())
                _runtime_pid = pid
    return _runtime


def reset_runtime() -> None:
    """Forget the runtime (after settings change); flushes its reporter first."""
    global _runtime
    with _lock:
        if _runtime is not None and "reporter" in _runtime.__dict__ and _runtime_pid == os.getpid():
            _runtime.reporter.close()
        if _runtime is not None and "emitter" in _runtime.__dict__ and _runtime_pid == os.getpid():
            _runtime.emitter.close()
        _runtime = None
