"""A scaling curve: 1, 2, 4 worker processes against one Redis, tasks-core beside plain Celery.

Run from the repo root::

    .venv/bin/python bench/scaling.py [--n 5000] [--processes 1,2,4] [--json out.json]

One run starts its own redis-server (as bench/tasks_alone.py does: no RDB, no AOF, a free
port) and, for each process count P, for plain Celery (acks late, the delivery guarantee
tasks-core uses) and then tasks-core (every setting at its default), one after the other:

1. starts one worker with a prefork pool of P processes (``-c P``) and warms it up (the
   warm-up of bench/tasks_alone.py);
2. pauses its consumer, sends N no-op tasks (``noop.delay(i)``), reads the redis-server
   process's CPU seconds (/proc/<pid>/stat: user + system), resumes the consumer and waits
   passively (LLEN every 20 ms until the queue is empty, then the per-task check);
3. reports runs/s = N / (end seen - resume), the Redis CPU seconds per 10,000 runs, and
   Redis's CPU use while draining (CPU seconds / drain seconds: 1.0 is one core busy), and
   the Redis commands per run (INFO commandstats from CONFIG RESETSTAT before sending to the
   end; commands a Lua script runs count, as does the EVALSHA; the JSON splits them by
   command);
4. stops the worker.

What the curve says about the ceiling of one Redis: redis-server runs commands on one
thread, so at most 1 / (CPU seconds per run) runs/s go through it, whatever the number of
workers; SCALING.md works that out from these figures. On a machine with fewer cores than
worker processes plus Redis (this one has 2), the curve flattens because the workers and
Redis share the cores, not because Redis is full: read the Redis CPU column with it.
"""

from __future__ import annotations

import argparse
import os
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
    prepare_env,
    run_bench,
    start_redis,
    write_json,
)
from bench._systems import PlainCelery, System, TasksCore, drain  # noqa: E402


def one_point(system: System, probe: RedisProbe, n: int) -> dict[str, Any]:
    """Steps 1-4 above for one system and process count."""
    system.start_worker()
    try:
        system.warm_up()
        system.pause()
        if system.queue_length() != 0:
            raise BenchError(f"{system.label}: queue not empty before sending")
        probe.reset_commandstats()
        handles = [system.send(i) for i in range(n)]
        cpu0 = probe.cpu_seconds()
        t0, observed = drain(system, handles, passive=True)
        cpu = probe.cpu_seconds() - cpu0
        seconds = observed - t0
        calls = {name: count / n for name, (count, _usec) in probe.commandstats().items()}
        return {"runs_per_s": n / seconds, "redis_cpu_s_per_10k": cpu / n * 10_000,
                "redis_cpu_share": cpu / seconds, "drain_s": seconds,
                "redis_calls_per_run": sum(calls.values()),
                "redis_calls_by_command": dict(sorted(calls.items(), key=lambda kv: -kv[1]))}
    finally:
        system.stop_worker()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--n", type=int, default=5000, help="tasks per point")
    parser.add_argument("--processes", default="1,2,4",
                        help="worker pool sizes to measure, comma-separated")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--redis-server", default=None, help="redis-server binary")
    args = parser.parse_args(argv)
    try:
        args.counts = [int(p) for p in args.processes.split(",")]
    except ValueError:
        parser.error(f"--processes must be integers separated by commas, not {args.processes!r}")
    if args.n < 1 or not args.counts or min(args.counts) < 1:
        parser.error("--n and every --processes value must be >= 1")
    # what bench/tasks_alone.py's systems read
    args.task_events = False
    args.plain_acks_late = True
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body(procs: Processes) -> int:
        redis_proc, url = start_redis(procs, binary=args.redis_server)
        env = prepare_env(url, f"scale{os.getpid()}x{secrets.token_hex(4)}", procs.workdir, {
            "TASKS_CORE_TASK_EVENTS": "false", "BENCH_PLAIN_ACKS_LATE": "1",
            "BENCH_REDIS_URL": url})
        os.environ["BENCH_PLAIN_ACKS_LATE"] = "1"
        client = redis.Redis.from_url(url, decode_responses=True)
        probe = RedisProbe(client, redis_proc.proc.pid)
        from celery import Celery

        control_app = Celery("bench_control", broker=url, set_as_current=False)
        print(f"redis {client.info('server')['redis_version']} on {url}, {os.cpu_count()} CPUs,"
              f" N={args.n} per point")
        rows: list[dict[str, Any]] = []
        for count in args.counts:
            args.concurrency = count
            for cls in (PlainCelery, TasksCore):
                system = cls(args, procs, env, client, control_app)
                print(f"[{system.label}, {count} processes]", flush=True)
                point = one_point(system, probe, args.n)
                rows.append({"system": system.key, "processes": count, **point})
        print()
        print(report(rows))
        if args.json:
            write_json(args.json, {"n": args.n, "cpus": os.cpu_count(),
                                   "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                   "points": rows})
        return 0

    return run_bench(body)


def report(rows: list[dict[str, Any]]) -> str:
    """The curve as a table: one line per process count, both systems and their ratio."""
    head = ("processes", "Celery runs/s", "tasks-core runs/s", "ratio",
            "Celery Redis CPU s/10k", "tasks-core Redis CPU s/10k", "ratio",
            "tasks-core Redis CPU share", "Celery cmds/run", "tasks-core cmds/run")
    lines = [head]
    for count in sorted({r["processes"] for r in rows}):
        plain = next(r for r in rows if r["processes"] == count and r["system"] == "plain")
        tc = next(r for r in rows if r["processes"] == count and r["system"] == "tc")
        lines.append((str(count), f"{plain['runs_per_s']:,.0f}", f"{tc['runs_per_s']:,.0f}",
                      f"{tc['runs_per_s'] / plain['runs_per_s']:.2f}x",
                      f"{plain['redis_cpu_s_per_10k']:.2f}", f"{tc['redis_cpu_s_per_10k']:.2f}",
                      f"{tc['redis_cpu_s_per_10k'] / plain['redis_cpu_s_per_10k']:.2f}x",
                      f"{tc['redis_cpu_share']:.2f}", f"{plain['redis_calls_per_run']:.1f}",
                      f"{tc['redis_calls_per_run']:.1f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    text.insert(1, "-" * len(text[0]))
    text.append("runs/s = N / (last end seen - consumer resumed), passive waiter; Redis CPU "
                "from /proc (user + system); share = Redis CPU seconds per drain second.")
    return "\n".join(text)


if __name__ == "__main__":
    sys.exit(main())
