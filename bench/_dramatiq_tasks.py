"""System A of bench/bulk.py: dramatiq's no-op actor on the bench Redis.

The bench sets ``BENCH_REDIS_URL`` and ``BENCH_DRAMATIQ_NAMESPACE`` (a key namespace of its
own, distinct from tasks-core's key prefix) before this module is imported, in the bench
process and in the worker it starts. Everything else is dramatiq's default (its default
middleware: age and time limits, retries, callbacks, pipelines; no result backend), except
with ``BENCH_DRAMATIQ_RESULTS=1`` (``--dramatiq-results``): then the Results middleware
stores each return value with dramatiq's Redis result backend (namespace
``<namespace>-results``, readable keys), as tasks-core stores every run's result.

Worker: ``dramatiq bench._dramatiq_tasks --processes 2 --threads 1 --queues bench_dq``.
"""

from __future__ import annotations

import os
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

QUEUE = "bench_dq"
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/0"
NAMESPACE = os.environ.get("BENCH_DRAMATIQ_NAMESPACE") or "bench-dramatiq"
RESULTS = os.environ.get("BENCH_DRAMATIQ_RESULTS") == "1"

broker = RedisBroker(url=REDIS_URL, namespace=NAMESPACE)
if RESULTS:
    from dramatiq.results import Results
    from dramatiq.results.backends import RedisBackend

    # readable keys (<namespace>-results:<queue>:<actor>:<id>, not an MD5 of it) so the
    # bench can count them; the same one write per message either way
    broker.add_middleware(Results(backend=RedisBackend(
        url=REDIS_URL, namespace=f"{NAMESPACE}-results", use_namespace_prefix_keys=True)))
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=QUEUE, **({"store_results": True} if RESULTS else {}))
def noop(x: Any = None) -> Any:
    """Do nothing; return the argument (the same no-op as tasks-core's bench task)."""
    return x
