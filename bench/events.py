"""Events and the trigger engine: emit throughput, engine throughput, emit -> Running latency.

Run from the repo root::

    .venv/bin/python bench/events.py [--emit-n 20000] [--engine-n 5000] [--latency-samples 100] \
        [--json results.json] [--redis-server PATH]

One run starts its own redis-server (no RDB, no AOF) on a free port, drops inherited
TASKS_CORE_* variables, points TASKS_CORE_CONFIG at an empty TOML file, and measures, each
part under its own key prefix:

1. emit throughput: this one process calls ``emit_event`` N times (``--emit-n``; names
   ``bench.emit``, one resource label, a small payload), timed from the first call until
   ``emitter.flush()`` returns, i.e. until every event is on the stream (the buffered client
   writes batches every 50 ms). Events/s.
2. engine throughput, three times: with 1 automation, with 10 (all can match), and with
   1,000 automations of which 10 can match. The automations that can match expect
   ``bench.hit`` and match a resource id no event has (so each is evaluated for every event
   and none fires: this measures reading and evaluating, not actions); the other 990
   expect ``other.<i>.*``. A real ``tasks-core beat`` runs the engine; once its consumer
   group exists the beat is stopped (SIGSTOP), ``--engine-n`` ``bench.hit`` events are
   emitted and flushed, the beat is continued (SIGCONT, t0), and the bench polls the group
   (``XINFO GROUPS``: lag and pending, every 10 ms) until every event is read and
   acknowledged (t1). Events/s = N / (t1 - t0). The ratio of the 1,000 case to the 10 case
   (the same 10 evaluated per event) shows whether the cost per event grows with
   automations that cannot match it (the engine's index by event-name prefix).
3. latency from ``emit_event`` to the triggered flow run Running: ``noop_flow``
   (bench/_deploy_flows.py) deployed as ``noop-flow/on-ping`` to the pool ``bench_events``,
   one automation ``EventTrigger(expect={"bench.ping"})`` with a ``run-deployment`` action, a
   real beat and a warm worker (``tasks-core worker --pool bench_events -c 2``). M pings are
   emitted one after another (each flushed at once, the next sent when the run of the
   previous one has completed); latency = the run's ``start_time`` (written when the worker
   claims it: Running) - the event's ``occurred`` (both stamped on this machine). p50 / p99
   in ms. Targets: p50 < 50 ms, p99 < 250 ms. Prefect 3's documented default path (event ->
   automation -> deployment run -> worker poll) takes about 9 s; it is not run here (no
   Prefect server on this machine), so there is no side-by-side ratio.

Percentiles use linear interpolation. The machine may be shared: numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench._common import (  # noqa: E402
    Managed,
    Processes,
    install_signal_exit,
    percentile,
    prepare_env,
    start_redis,
)

RID = "tasks-core.resource.id"
POOL = "bench_events"


def _switch_prefix(prefix: str) -> None:
    """Point this process's tasks-core at a fresh key prefix."""
    from tasks_core.process_runtime import reset_runtime
    from tasks_core.settings import reset_settings

    os.environ["TASKS_CORE_KEY_PREFIX"] = prefix
    reset_settings()
    reset_runtime()


def _start(procs: Processes, label: str, args: list[str], env: dict[str, str]) -> Managed:
    env = {**env, "TASKS_CORE_KEY_PREFIX": os.environ["TASKS_CORE_KEY_PREFIX"]}
    return procs.start(label, [sys.executable, "-m", "tasks_core.cli.main", *args,
                               "--loglevel", "WARNING"], env=env, cwd=REPO)


def _wait(check: Any, timeout: float, what: str, step: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(step)


def _group(client: redis.Redis, prefix: str) -> dict[str, Any] | None:
    if not client.exists(f"{prefix}:events"):
        return None
    for group in client.xinfo_groups(f"{prefix}:events"):  # type: ignore[union-attr]
        if group["name"] in (f"{prefix}:engine:group", f"{prefix}:engine:group".encode()):
            return dict(group)
    return None


def emit_throughput(n: int) -> float:
    from tasks_core import emit_event
    from tasks_core.process_runtime import get_runtime

    _switch_prefix(f"bench-emit-{secrets.token_hex(3)}")
    emitter = get_runtime().emitter
    emit_event("bench.warm", {RID: "bench.warm"})
    emitter.flush()
    started = time.perf_counter()
    for i in range(n):
        emit_event("bench.emit", {RID: f"bench.r.{i}"}, payload={"i": i})
    emitter.flush(timeout=None)
    return n / (time.perf_counter() - started)


def engine_throughput(procs: Processes, env: dict[str, str], client: redis.Redis,
                      automations: int, n: int) -> float:
    from tasks_core import emit_event
    from tasks_core.automations import Automation
    from tasks_core.events import EventTrigger
    from tasks_core.process_runtime import get_runtime

    prefix = f"bench-engine-{automations}-{secrets.token_hex(3)}"
    _switch_prefix(prefix)
    never = {RID: "bench.never"}
    for i in range(automations):
        trigger = (EventTrigger(expect={"bench.hit"}, match=never) if i < 10
                   else EventTrigger(expect={f"other.{i}.*"}))
        Automation(f"bench {i}", trigger, [{"type": "do-nothing"}]).create()
    beat = _start(procs, f"beat-{automations}", ["beat"], env)
    try:
        _wait(lambda: _group(client, prefix), 60, "the engine's consumer group", 0.05)
        time.sleep(1.0)  # the engine has loaded the automations
        os.kill(beat.proc.pid, signal.SIGSTOP)
        try:
            for i in range(n):
                emit_event("bench.hit", {RID: f"bench.r.{i}"}, payload={"i": i})
            get_runtime().emitter.flush(timeout=None)
        finally:
            started = time.perf_counter()
            os.kill(beat.proc.pid, signal.SIGCONT)

        def done() -> bool:
            group = _group(client, prefix) or {}
            return group.get("lag") == 0 and group.get("pending") == 0
        _wait(done, 600, f"the engine to read {n} events")
        return n / (time.perf_counter() - started)
    finally:
        procs.stop(beat)


def latency(procs: Processes, env: dict[str, str], client: redis.Redis,
            samples: int) -> list[float]:
    from bench import _deploy_flows
    from tasks_core import emit_event
    from tasks_core.automations import Automation
    from tasks_core.events import EventTrigger
    from tasks_core.process_runtime import get_runtime

    _switch_prefix(f"bench-latency-{secrets.token_hex(3)}")
    rt = get_runtime()
    deployment_id = _deploy_flows.noop_flow.deploy(
        "on-ping", work_pool_name=POOL, entrypoint="bench._deploy_flows:noop_flow",
        source=str(REPO))
    Automation("run on ping", EventTrigger(expect={"bench.ping"}),
               [{"type": "run-deployment", "deployment_id": deployment_id}]).create()
    worker = _start(procs, "worker", ["worker", "--pool", POOL, "-c", "2", "-i",
                                      "bench._deploy_flows"], env)
    beat = _start(procs, "beat", ["beat"], env)
    try:
        prefix = os.environ["TASKS_CORE_KEY_PREFIX"]
        _wait(lambda: _group(client, prefix), 60, "the engine's consumer group", 0.05)
        time.sleep(1.0)  # the engine has loaded the automation
        delays: list[float] = []
        seen: set[str] = set()
        for i in range(samples + 5):  # the first five warm everything up
            event = emit_event("bench.ping", {RID: f"bench.ping.{i}"})
            rt.emitter.flush()

            def run_of(event_id: str = event.id) -> Any:
                for record in rt.store.get_many(rt.store.list_ids("flow", limit=20)):
                    by = record.triggered_by
                    if (record.id not in seen and by is not None and by.event_id == event_id
                            and record.state.value == "Completed"):
                        return record
                return None
            record = _wait(run_of, 120, f"the run triggered by ping {i}", 0.005)
            seen.add(record.id)
            if i >= 5 and record.start_time is not None:
                delays.append((record.start_time - event.occurred).total_seconds() * 1000)
        return sorted(delays)
    finally:
        procs.stop(beat)
        procs.stop(worker)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--emit-n", type=int, default=20_000, help="events emitted in part 1")
    parser.add_argument("--engine-n", type=int, default=5_000, help="events read in part 2")
    parser.add_argument("--latency-samples", type=int, default=100, help="pings in part 3")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--redis-server", default=None, help="redis-server binary")
    args = parser.parse_args(argv)
    install_signal_exit()
    procs = Processes()
    try:
        _, url = start_redis(procs, binary=args.redis_server)
        env = prepare_env(url, "bench-events", procs.workdir)
        client = redis.Redis.from_url(url, decode_responses=True)
        results: dict[str, Any] = {"emit_per_s": emit_throughput(args.emit_n)}
        print(f"emit: {results['emit_per_s']:,.0f} events/s ({args.emit_n} events)")
        for count in (1, 10, 1000):
            rate = engine_throughput(procs, env, client, count, args.engine_n)
            results[f"engine_per_s_{count}"] = rate
            print(f"engine, {count} automation(s): {rate:,.0f} events/s")
        delays = latency(procs, env, client, args.latency_samples)
        results.update(latency_p50_ms=percentile(delays, 50), latency_p99_ms=percentile(
            delays, 99), latency_samples=len(delays))
        ratio = results["engine_per_s_1000"] / results["engine_per_s_10"]
        print()
        print(f"{'metric':<58}{'tasks-core':>12}  target")
        print("-" * 80)
        print(f"{'emit_event throughput (events/s, one producer, batched)':<58}"
              f"{results['emit_per_s']:>12,.0f}")
        print(f"{'engine throughput, 1 automation (events/s)':<58}"
              f"{results['engine_per_s_1']:>12,.0f}")
        print(f"{'engine throughput, 10 automations, all can match':<58}"
              f"{results['engine_per_s_10']:>12,.0f}")
        print(f"{'engine throughput, 1,000 automations, 10 can match':<58}"
              f"{results['engine_per_s_1000']:>12,.0f}  {ratio:.2f}x the 10")
        print(f"{'emit_event -> triggered flow run Running, p50 (ms)':<58}"
              f"{results['latency_p50_ms']:>12.1f}  < 50")
        print(f"{'emit_event -> triggered flow run Running, p99 (ms)':<58}"
              f"{results['latency_p99_ms']:>12.1f}  < 250")
        print("no peer run here: Prefect 3 takes about 9 s from event to run by default")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
