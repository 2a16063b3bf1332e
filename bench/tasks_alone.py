"""Plain Celery vs tasks-core, side by side, on one private Redis: no-op tasks alone.

Run from the repo root::

    .venv/bin/python bench/tasks_alone.py [--n 5000] [--latency-samples 300] \
        [--map-n 10000] [--concurrency 2] [--json results.json] [--redis-server PATH]

One run starts its own redis-server (/usr/bin/redis-server unless ``--redis-server``) on a
free port (``--save "" --appendonly no``, no eviction), then measures the two systems one
after the other (never both workers at once), each against that Redis:

A. plain Celery: app ``bench._plain_celery_tasks`` (broker and result backend on the bench
   Redis, JSON serializer, otherwise Celery's defaults: early acks, no task events), task
   ``noop(x) -> x``, worker
   ``celery -A bench._plain_celery_tasks worker -c C -P prefork --loglevel WARNING -Q bench_plain``
   (``-E`` added with ``--task-events``: both systems then send task events from the start,
   as while Flower runs).
B. tasks-core: ``@task noop(x) -> x`` in ``bench._tc_tasks``, worker
   ``tasks-core worker --pool bench_tc -c C --pool-impl prefork -i bench._tc_tasks
   --loglevel WARNING``, every setting at its default (full state tracking; late acks and
   task events are what tasks-core configures). TASKS_CORE_* variables inherited from the
   environment are dropped, TASKS_CORE_CONFIG points at an empty TOML file, and
   TASKS_CORE_REDIS_URL / TASKS_CORE_KEY_PREFIX (unique per run) are set, before tasks_core
   is imported here and in the worker's environment.

Both workers use the same concurrency (``--concurrency``, default 2) and the prefork pool.

What is timed, per system (the worker's queue is paused/resumed with Celery's remote control,
``cancel_consumer`` / ``add_consumer``, addressed to that worker's node name):

0. warm-up (not timed): the worker is started and pinged until it answers; then 200 tasks
   are sent and waited for, and 20 sequential round trips are made (tasks-core also runs a
   200-input ``.map()``), so both pool children have imported and connected everything.
1. enqueue rate: the worker's consumer is cancelled (then 1.5 s settle, and the queue is
   checked to be empty); the timer covers exactly the loop of N ``noop.delay(i)`` calls in
   this one process, keeping the returned AsyncResult / TaskFuture objects in a list.
   Rate = N / that time. Before resuming, the queue length is checked to be N (nothing was
   consumed while enqueuing). Celery's ``.delay()`` includes what its Redis result backend
   does per call (SUBSCRIBE to the result channel); tasks-core's writes the run record, its
   history, indexes and event, and the message, in one Lua call.
2. drain throughput, with the same N queued tasks: t0 = wall clock just before
   ``add_consumer`` is sent (consumption starts right after). Then the bench waits for all N:
   tasks-core with ``wait_all(futures)`` (pipelined HGETs of the states of the oldest
   unfinished runs: about twice as many as finished since its last poll, 16 to 256, every
   20 ms, at once when all it read had finished: tasks_core.poll_window.poll_oldest); Celery
   with the equivalent (MGET of the oldest ``celery-task-meta-<id>`` keys still missing,
   the same window rule; done when every result is present and SUCCESS; the queue is then
   also checked to be empty).
     * "drain throughput" = N / (time the waiter returned - t0): what a caller sees.
     * "drain, by stored end times" = N / (latest completion timestamp written by the system
       - t0): Celery's ``date_done`` in the result meta, tasks-core's ``end_time`` of the
       run record. It excludes the waiter's 20 ms poll granularity.
   The worker stays warm (it was running all along; only its consumer was paused).
     * "Redis memory per run left" = (INFO ``used_memory`` after the drain - before the
       enqueue) / N, each read with nothing in flight after a 0.5 s settle: what the N
       finished runs hold until they expire (Celery: its result keys; tasks-core: records,
       histories, results, index entries and run events). Printed under the table: Redis
       ``MEMORY USAGE`` of the last run's keys by part, and its share of the event stream and
       of the two indexes every run is in (usage / entries).
   2b. (info) steps 1-2 again with a passive waiter: until the queue is empty the bench only
   polls LLEN every 20 ms (O(1)), then runs the waiter above for the last few tasks.
   "drain, passive waiter" = N / (that waiter's return - t0): the worker's own throughput,
   without the per-task polling of the waiter competing for the CPU. Its enqueue time is
   kept in the JSON (``enqueue2_s``) but not in the enqueue rate.
     * "Redis CPU per 10,000 runs" = the redis-server process's user + system CPU seconds
       (/proc/<pid>/stat) from just before the first ``.delay()`` of 2b to the waiter's
       return, / N * 10,000: sending, consuming, tracking and storing results, plus what
       each worker does meanwhile (heartbeats, its consumer's BRPOP loop).
     * the worker's CPU over the same drain, from /proc (user + system), per 10,000 runs:
       its main process (Celery's consumer: BRPOP, kombu's unacked bookkeeping, the hand-off
       to the pool, the ack) and its pool children (claims, the task, ends); "busy" = the
       main process's CPU seconds / the drain's seconds (all its threads: the consumer loop,
       and heartbeat threads): near 1.0, the consumer loop bounds the drain (issue 16, item
       4). "machine CPU busy" = the share of all cores not idle over the drain (/proc/stat):
       near 1.0, the drain is bound by the CPU; well below, by waits (round trips, hand-offs).
3. round-trip latency: M sequential ``noop.delay(i).get()`` (Celery) and
   ``noop.delay(i).result()`` (tasks-core) with the warm worker, each timed from before
   ``.delay`` to the returned value (checked == i); p50 and p99 in ms (linear interpolation).
   20 untimed round trips come first: after the drains, Celery's client has thousands of
   result messages waiting on its pub/sub connection (it SUBSCRIBEd at each ``.delay``), and
   its first ``.get()`` reads them all (about 4 s for 10,000), which is not latency.
4. tasks-core only: ``noop.map(range(MAP_N))``, each input its own tracked run; timed from
   the ``.map`` call until ``wait_all`` returns (all Completed). Runs/s = MAP_N / that time.

Targets (from the issue): enqueue rate and drain throughput each >= 0.8x plain Celery,
round-trip p50 <= 1.5x plain Celery, map >= 3,000 runs/s. The machine may be shared: the
numbers are noisy, run it more than once.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import redis  # noqa: E402

from bench._common import (  # noqa: E402
    BenchError,
    Processes,
    RedisProbe,
    cpu_by_process,
    machine_cpu,
    percentile,
    prepare_env,
    run_bench,
    start_redis,
    target_table,
    write_json,
)
from bench._systems import (  # noqa: E402
    WARMUP_ROUNDTRIPS,
    PlainCelery,
    System,
    TasksCore,
    drain,
    enqueue,
    timed,
)

TARGETS = {
    "enqueue_rate": 0.8,
    "drain_throughput": 0.8,
    "roundtrip_p50": 1.5,
    "map_runs_per_s": 3000.0,
}


def measure(system: System, args: argparse.Namespace, probe: RedisProbe) -> dict[str, Any]:
    n = args.n
    out: dict[str, Any] = {}
    print(f"[{system.label}] node {system.node}")
    timed("start worker", system.start_worker)
    timed("warm up", system.warm_up)

    # 1. enqueue rate (worker paused), then 2. drain, waited for like a caller would; the
    # Redis memory the N runs left (used_memory after - before, with nothing in flight)
    memory_before = probe.used_memory()
    handles, out["enqueue_s"] = enqueue(system, n)
    out["enqueue_rate"] = n / out["enqueue_s"]
    t0, observed = drain(system, handles, passive=False)
    last = max(system.completion_times(handles))
    out["drain_observed_s"] = observed - t0
    out["drain_throughput"] = n / (observed - t0)
    out["drain_stored_s"] = last - t0
    out["drain_throughput_stored"] = n / (last - t0)
    out["redis_bytes_per_run"] = (probe.used_memory() - memory_before) / n
    out["redis_bytes_breakdown"] = system.breakdown(handles[-1])
    del handles

    # 2b. the same again with a passive waiter: what the worker alone sustains, and the
    # redis-server CPU seconds spent from the first .delay() to the last end seen
    cpu: list[float] = []
    probe.reset_commandstats()
    handles, out["enqueue2_s"] = enqueue(system, n, on_start=lambda: cpu.append(
        probe.cpu_seconds()))
    assert system.worker is not None
    root = system.worker.proc.pid
    worker_cpu = cpu_by_process(root)  # the worker is paused: its consumer takes nothing
    busy0, total0 = machine_cpu()
    t0, observed = drain(system, handles, passive=True)
    out["redis_cpu_s_per_10k"] = (probe.cpu_seconds() - cpu[0]) / n * 10_000
    out["redis_commands_per_run"] = {
        name: {"calls": calls / n, "usec": usec / n}
        for name, (calls, usec) in probe.commandstats().items()}
    worker_after = cpu_by_process(root)
    busy1, total1 = machine_cpu()
    out["machine_busy"] = (busy1 - busy0) / (total1 - total0)
    main_s = worker_after.get(root, 0.0) - worker_cpu.get(root, 0.0)
    pool_s = sum(after - worker_cpu[pid] for pid, after in worker_after.items()
                 if pid != root and pid in worker_cpu)
    out["worker_main_cpu_s_per_10k"] = main_s / n * 10_000
    out["worker_pool_cpu_s_per_10k"] = pool_s / n * 10_000
    out["worker_main_busy"] = main_s / (observed - t0)
    last = max(system.completion_times(handles))
    out["drain_passive_observed_s"] = observed - t0
    out["drain_throughput_passive"] = n / (observed - t0)
    out["drain_throughput_passive_stored"] = n / (last - t0)
    del handles

    # 3. sequential round trips, warm worker
    def roundtrips() -> list[float]:
        for i in range(WARMUP_ROUNDTRIPS):  # untimed: settle the client after the drains
            system.roundtrip(i)
        samples = []
        for i in range(args.latency_samples):
            start = time.perf_counter()
            value = system.roundtrip(i)
            samples.append((time.perf_counter() - start) * 1000.0)
            if value != i:
                raise BenchError(f"{system.label}: round trip {i} returned {value!r}")
        return samples

    samples = sorted(timed(f"{args.latency_samples} round trips", roundtrips))
    out["roundtrip_p50_ms"] = percentile(samples, 50)
    out["roundtrip_p99_ms"] = percentile(samples, 99)
    out["roundtrip_mean_ms"] = sum(samples) / len(samples)
    out["roundtrip_max_ms"] = samples[-1]

    # 4. tasks-core only: .map()
    if isinstance(system, TasksCore):
        print(f"  map {args.map_n} ...", end="", flush=True)
        start = time.perf_counter()
        futures = system.task.map(range(args.map_n))
        sent = time.perf_counter()
        system.wait_done(futures, timeout=max(120.0, args.map_n / 20))
        done = time.perf_counter()
        print(f" {done - start:.2f}s (map call {sent - start:.2f}s)", flush=True)
        out["map_s"] = done - start
        out["map_call_s"] = sent - start
        out["map_runs_per_s"] = args.map_n / (done - start)

    timed("stop worker", system.stop_worker)
    return out


# -- report --------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}{unit}" if value < 100 else f"{value:,.0f}{unit}"


ROUND_RATIOS = (("drain", "drain_throughput"), ("Redis CPU per run", "redis_cpu_s_per_10k"),
                ("Redis memory per run", "redis_bytes_per_run"),
                ("round trip p50", "roundtrip_p50_ms"))
"""What `--rounds` prints for each round: (label, result key), tasks-core / plain Celery."""


def build_report(plain: dict[str, Any], tc: dict[str, Any], args: argparse.Namespace
                 ) -> tuple[str, dict[str, Any]]:
    def ratio(key: str) -> float:
        return float(tc[key] / plain[key])

    checks = {
        "enqueue_rate": (ratio("enqueue_rate"), f">= {TARGETS['enqueue_rate']}x",
                         ratio("enqueue_rate") >= TARGETS["enqueue_rate"]),
        "drain_throughput": (ratio("drain_throughput"), f">= {TARGETS['drain_throughput']}x",
                             ratio("drain_throughput") >= TARGETS["drain_throughput"]),
        "roundtrip_p50": (ratio("roundtrip_p50_ms"), f"<= {TARGETS['roundtrip_p50']}x",
                          ratio("roundtrip_p50_ms") <= TARGETS["roundtrip_p50"]),
        "map_runs_per_s": (None, f">= {TARGETS['map_runs_per_s']:,.0f}/s",
                           tc["map_runs_per_s"] >= TARGETS["map_runs_per_s"]),
    }
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(metric: str, key: str, target: str | None = None) -> None:
        p, t = plain.get(key), tc.get(key)
        r = f"{t / p:.2f}x" if p and t else "-"
        verdict = ""
        if target is not None:
            verdict = "PASS" if checks[target][2] else "MISS"
        rows.append((metric, fmt(p), fmt(t), r, checks[target][1] if target else "", verdict))

    row(f"enqueue rate (.delay/s, N={args.n})", "enqueue_rate", "enqueue_rate")
    row(f"drain throughput (tasks/s, N={args.n})", "drain_throughput", "drain_throughput")
    row("  same drain, by stored end times (tasks/s)", "drain_throughput_stored")
    row("drain, passive waiter (tasks/s, info)", "drain_throughput_passive")
    row("Redis memory per run left (bytes)", "redis_bytes_per_run")
    row("Redis CPU per 10,000 runs (s, passive drain)", "redis_cpu_s_per_10k")
    row("  worker main process CPU (s per 10,000, consumer)", "worker_main_cpu_s_per_10k")
    row("  pool children CPU (s per 10,000, the tasks)", "worker_pool_cpu_s_per_10k")
    row("  worker main process busy (CPU s / drain s)", "worker_main_busy")
    row("  machine CPU busy over that drain (all cores)", "machine_busy")
    row(f"round-trip p50 (ms, M={args.latency_samples})", "roundtrip_p50_ms", "roundtrip_p50")
    row("round-trip p99 (ms)", "roundtrip_p99_ms")
    row("round-trip mean (ms)", "roundtrip_mean_ms")
    row(f".map() runs/s (tasks-core, {args.map_n:,} inputs)", "map_runs_per_s",
        "map_runs_per_s")
    head = ("metric", "plain Celery", "tasks-core", "ratio", "target", "result")
    lines = target_table(head, rows)
    lines.append(f"ratio = tasks-core / plain Celery (latency: ratio of p50); "
                 f"concurrency {args.concurrency}, prefork, both; Celery task events "
                 f"{'on (-E), both' if args.task_events else 'off, both'}; plain "
                 f"Celery acks {'late' if args.plain_acks_late else 'early (its default)'}, "
                 "tasks-core late.")
    summary = {name: {"ratio": c[0], "target": c[1], "pass": c[2]} for name, c in checks.items()}
    return "\n".join(lines), summary


def command_line(label: str, stats: dict[str, dict[str, float]]) -> str:
    """One line: the Redis commands per run over the passive drain, costliest first."""
    ranked = sorted(stats.items(), key=lambda item: -item[1]["usec"])
    parts = ", ".join(f"{name} {v['calls']:.2f} x {v['usec'] / max(v['calls'], 1e-9):.1f}"
                      for name, v in ranked if v["calls"] >= 0.01)
    return (f"{label}, Redis commands per run over the passive drain (INFO commandstats: "
            f"calls x usec each; a script's commands are counted under their own names as "
            f"well as inside EVAL/EVALSHA's time): {parts}")


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--n", type=int, default=5000, help="tasks to enqueue and drain")
    parser.add_argument("--latency-samples", type=int, default=300,
                        help="sequential round trips per system")
    parser.add_argument("--map-n", type=int, default=10_000, help="inputs of the .map() run")
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    parser.add_argument("--task-events", action="store_true",
                        help="both workers send Celery task events from the start, as while "
                        "Flower runs (plain Celery with -E, tasks-core with task_events); by "
                        "default neither does, Celery's default")
    parser.add_argument("--plain-acks-late", action="store_true",
                        help="plain Celery acks after the task (task_acks_late, "
                        "task_reject_on_worker_lost), the delivery guarantee tasks-core uses")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure both systems this many times, one after the other; "
                        "each round's main ratios are printed and the table is the median "
                        "round's by Redis CPU per run (the figure that moves most between "
                        "rounds)")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--redis-server", default=None,
                        help="redis-server binary (default: /usr/bin/redis-server if present)")
    args = parser.parse_args(argv)
    for name in ("n", "latency_samples", "map_n", "concurrency", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body(procs: Processes) -> int:
        redis_proc, url = start_redis(procs, binary=args.redis_server)
        key_prefix = f"bench{os.getpid()}x{secrets.token_hex(4)}"
        env = prepare_env(url, key_prefix, procs.workdir, {
            "TASKS_CORE_TASK_EVENTS": "true" if args.task_events else "false",
            "BENCH_PLAIN_ACKS_LATE": "1" if args.plain_acks_late else "0",
            "BENCH_REDIS_URL": url})
        os.environ["BENCH_PLAIN_ACKS_LATE"] = env["BENCH_PLAIN_ACKS_LATE"]
        client = redis.Redis.from_url(url, decode_responses=True)
        info = client.info("server")
        print(f"redis {info['redis_version']} on {url} (pid {redis_proc.proc.pid}), "
              f"key prefix {key_prefix}, {os.cpu_count()} CPUs")

        from celery import Celery

        control_app = Celery("bench_control", broker=url, set_as_current=False)
        rounds: list[dict[str, dict[str, Any]]] = []
        for number in range(1, args.rounds + 1):
            if number > 1:  # each round starts on an empty Redis, as the first does (the
                # keyspace of earlier rounds would move the memory figures: table resizes)
                client.flushdb()
            if args.rounds > 1:
                print(f"-- round {number} of {args.rounds}")
            results: dict[str, dict[str, Any]] = {}
            for cls in (PlainCelery, TasksCore):
                system = cls(args, procs, env, client, control_app)
                try:
                    results[system.key] = measure(system, args,
                                                  RedisProbe(client, redis_proc.proc.pid))
                finally:
                    system.stop_worker()
            rounds.append(results)
        print()
        if args.rounds > 1:
            for number, each in enumerate(rounds, 1):
                print(f"round {number}: " + ", ".join(
                    f"{label} {each['tc'][key] / each['plain'][key]:.2f}x"
                    for label, key in ROUND_RATIOS))
            rounds.sort(key=lambda r: r["tc"]["redis_cpu_s_per_10k"]
                        / r["plain"]["redis_cpu_s_per_10k"])
            print("the table is the median round's by Redis CPU per run (the lower middle "
                  "one for an even count)")
        results = rounds[(len(rounds) - 1) // 2]
        table, summary = build_report(results["plain"], results["tc"], args)
        print(table)
        for key, label in (("plain", "plain Celery"), ("tc", "tasks-core")):
            parts = results[key]["redis_bytes_breakdown"]
            print(f"one finished {label} run, MEMORY USAGE by part (bytes; key-table entries "
                  "not included): " + ", ".join(f"{k} {v:,.0f}" for k, v in parts.items()))
        for key, label in (("plain", "plain Celery"), ("tc", "tasks-core")):
            print(command_line(label, results[key]["redis_commands_per_run"]))
        if args.json:
            payload = {
                "config": {"n": args.n, "rounds": args.rounds,
                           "latency_samples": args.latency_samples,
                           "map_n": args.map_n, "concurrency": args.concurrency,
                           "pool": "prefork", "redis": info["redis_version"],
                           "python": platform.python_version(), "cpus": os.cpu_count(),
                           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
                "plain_celery": results["plain"],
                "tasks_core": results["tc"],
                "targets": summary,
                "table": table,
            }
            write_json(args.json, payload)
        return 0

    return run_bench(body)


if __name__ == "__main__":
    sys.exit(main())
