"""Bulk: tasks-core's ``.map()`` against dramatiq's drain, on one private Redis.

Run from the repo root::

    .venv/bin/python bench/bulk.py [--n 10000] [--concurrency 2] [--json results.json] \
        [--dramatiq-threads 1 8] [--dramatiq-results] [--no-paused] [--redis-server PATH]

One run starts its own redis-server (/usr/bin/redis-server unless ``--redis-server``) on a
free port (``--save "" --appendonly no``, no eviction), as bench/tasks_alone.py does, then
measures the two systems one after the other (never both workers at once) against it. The
task is a no-op returning its argument in both.

A. dramatiq (``bench._dramatiq_tasks``): ``@dramatiq.actor noop(x) -> x`` on a
   ``RedisBroker`` with a key namespace of its own (``bench<pid>x<hex>-dramatiq``), every
   other setting dramatiq's default (its default middleware, no result backend; with
   ``--dramatiq-results`` the Results middleware stores every return value in dramatiq's
   Redis result backend, as tasks-core stores every run's result). Worker:
   ``dramatiq bench._dramatiq_tasks --processes C --threads T --queues bench_dq``, measured
   once per T of ``--dramatiq-threads`` (default: 1, then 8), one worker at a time:
     * T=1 is the process model closest to tasks-core's worker (a prefork pool of C children,
       each running one task at a time). But dramatiq's consumer thread prefetches only
       2 x T messages and, while that many are unacked, sleeps with an exponential backoff
       (5 ms doubling, with jitter) before it looks again: with one thread per process the
       worker spends most of a drain asleep, so T=1 understates what dramatiq does.
     * T=8 is dramatiq's default (and C=2 processes is its default on this 2-CPU machine):
       the configuration a dramatiq user runs, and the faster one here.
   The target is checked against the faster of the configurations measured, so that a pass
   does not come from a throttled dramatiq; the others are printed for information.
   dramatiq has no remote control to pause a consumer, so its drain is measured as
   "queued first, then consumed" with the worker started after the send:
     1. send (timed): N ``noop.send(i)`` calls in one loop in this process, no worker running
        (what a dramatiq user writes for bulk; ``group(...).run()`` sends message by message
        too). The queue is then checked to hold N messages.
     2. drain: the worker is started; the bench polls the broker's keys (LLEN of the queue,
        HLEN of its message hash, ZCARD of the heartbeat set, one pipeline every 2 ms) until
        every one of the C processes has heartbeated (each does on its first fetch, from
        the queue or from its delay queue) and the first message was fetched: that instant
        is t0, and the messages not yet acked then (HLEN of the message hash) are the
        drain's count M (about N: the worker's start-up is not in the time). Then it polls
        HLEN every 10 ms until it is 0: every message acked (dramatiq acks a message after
        its actor returned; a failure would go to the delay queue for a retry or to the
        dead-letter set, both checked empty after). Drain runs/s = M / (end - t0).
     3. (info) end to end with the now warm worker: N ``noop.send(i)`` while it consumes,
        timed from the first send until the message hash is empty: N / that time.
   Counting by the broker's own keys adds no Redis work per message to dramatiq's actor.
B. tasks-core (``bench._tc_tasks``): ``@task noop(x) -> x``, worker
   ``tasks-core worker --pool bench_tc -c C --pool-impl prefork -i bench._tc_tasks
   --loglevel WARNING``, every setting at its default (TASKS_CORE_* variables inherited from
   the environment are dropped and TASKS_CORE_CONFIG points at an empty TOML file, as in
   bench/tasks_alone.py; ``.map()`` sends chunks of ``map_chunk_size`` runs per message).
   The worker is started and warmed (a 200-input ``.map()`` waited for, 20 round trips).
     1. ``noop.map(range(N))`` timed from the call until ``wait_all`` returns with every run
        Completed (``wait_all`` polls the oldest runs' states every 20 ms), the worker consuming all
        along, as bench/tasks_alone.py step 4 does. Runs/s = N / that time; the ``.map()``
        call's own time is reported too.
     2. (info) a pure drain like dramatiq's: the worker's consumer is cancelled (Celery's
        ``cancel_consumer``, then 1.5 s settle), ``noop.map(range(N))`` is sent (timed), the
        queue is checked to hold N / map_chunk_size messages, then t0 just before
        ``add_consumer`` and the time until ``wait_all`` returns. Runs/s = N / that time.

CPU per run (info), over each pure drain (A.2 from t0, B.2 from just before add_consumer,
both to the waiter's return): the user + system CPU seconds of the worker's processes (its
process group, from /proc/<pid>/stat) and of redis-server (bench/_common.py's RedisProbe),
per 10,000 runs. On a shared machine these vary much less than the wall-clock rates: they
tell whether a system does more work per run or only got less of the CPU.

Target (issue 16, item 4): tasks-core's bulk (B.1) >= 1.5x dramatiq's drain (A.2, the
fastest T). Both waiters poll (dramatiq's 10 ms O(1) HLEN, tasks-core's 20 ms state reads
of 16 to 256 runs), so the end of each drain is known to within one poll. The machine may be
shared: the numbers are noisy, run it more than once.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import secrets
import socket
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import redis  # noqa: E402

from bench._bulk_report import build_report  # noqa: E402
from bench._common import (  # noqa: E402
    BenchError,
    Managed,
    Processes,
    RedisProbe,
    find_executable,
    prepare_env,
    run_bench,
    start_redis,
    write_json,
)

TC_POOL = "bench_tc"
WARMUP_MAP = 200
WARMUP_ROUNDTRIPS = 20
PAUSE_SETTLE_S = 1.5  # > kombu's 1 s BRPOP timeout: no fetch in flight on a paused queue
START_POLL_S = 0.002  # dramatiq: waiting for its processes' first fetches
DRAIN_POLL_S = 0.01  # dramatiq: HLEN of the message hash until 0


def wait_timeout(n: int) -> float:
    return max(120.0, n / 20)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes of process group `pgid` (a worker
    and its pool processes: `Processes` starts each worker in a session of its own), from
    /proc/<pid>/stat (fields 5, 14 and 15)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by a worker's processes and by redis-server between two points."""

    def __init__(self, probe: RedisProbe, worker: Managed | None) -> None:
        if worker is None:
            raise BenchError("no worker to measure")
        self.probe, self.pgid = probe, worker.proc.pid
        self.worker0 = group_cpu_seconds(self.pgid)
        self.redis0 = probe.cpu_seconds()

    def per_10k(self, runs: int) -> tuple[float, float]:
        """(worker, redis-server) CPU seconds since this meter was made, per 10,000 runs."""
        worker = group_cpu_seconds(self.pgid) - self.worker0
        redis_s = self.probe.cpu_seconds() - self.redis0
        return worker / runs * 10_000, redis_s / runs * 10_000


# -- dramatiq ------------------------------------------------------------------------------


class Dramatiq:
    """The dramatiq worker, its sends, and what its Redis broker's keys say."""

    label = "dramatiq"

    def __init__(self, args: argparse.Namespace, procs: Processes, env: dict[str, str],
                 client: redis.Redis, threads: int) -> None:
        from bench import _dramatiq_tasks as mod

        self.args, self.procs, self.env, self.client = args, procs, env, client
        self.threads = threads
        self.actor = mod.noop
        ns, queue = mod.NAMESPACE, mod.QUEUE
        # dramatiq's Redis broker keys (dramatiq/brokers/redis/dispatch.lua's key map)
        self.queue_key = f"{ns}:{queue}"
        self.msgs_key = f"{ns}:{queue}.msgs"
        self.delay_msgs_key = f"{ns}:{queue}.DQ.msgs"
        self.dead_key = f"{ns}:{queue}.XQ"
        self.heartbeats_key = f"{ns}:__heartbeats__"
        self.acks_pattern = f"{ns}:__acks__.*"
        self.results_pattern = f"{ns}-results:*"  # _dramatiq_tasks's result backend
        self.queue = queue
        self.worker: Managed | None = None

    def worker_argv(self) -> list[str]:
        exe = find_executable("dramatiq")
        head = [exe] if exe else [sys.executable, "-m", "dramatiq"]
        return [*head, "bench._dramatiq_tasks", "--processes", str(self.args.concurrency),
                "--threads", str(self.threads), "--queues", self.queue]

    def start_worker(self) -> None:
        self.worker = self.procs.start(f"worker-dramatiq-t{self.threads}", self.worker_argv(),
                                       env=self.env, cwd=REPO)

    def check_worker(self) -> None:
        if self.worker is not None and self.worker.proc.poll() is not None:
            raise BenchError(f"dramatiq worker exited ({self.worker.proc.returncode}):\n"
                             f"{self.worker.log_tail()}")

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.procs.stop(self.worker)
            self.worker = None

    def send_all(self, n: int) -> float:
        """N ``noop.send(i)`` in one loop; seconds."""
        start = time.perf_counter()
        for i in range(n):
            self.actor.send(i)
        return time.perf_counter() - start

    def unacked(self) -> int:
        return int(self.client.hlen(self.msgs_key))

    def wait_consuming(self, n: int) -> tuple[float, float, int]:
        """Until every worker process has heartbeated and a message was fetched; (time of
        the first fetch seen, t0, messages not acked at t0)."""
        deadline = time.monotonic() + 90
        first_fetch: float | None = None
        while True:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.llen(self.queue_key).hlen(self.msgs_key).zcard(self.heartbeats_key)
                queued, unacked, beating = (int(v) for v in pipe.execute())
            now = time.time()
            if first_fetch is None and queued < n:
                first_fetch = now
            if first_fetch is not None and beating >= self.args.concurrency:
                return first_fetch, now, unacked
            if time.monotonic() > deadline:
                raise BenchError(f"dramatiq: {beating} of {self.args.concurrency} processes "
                                 f"consuming after 90 s:\n"
                                 f"{self.worker.log_tail() if self.worker else ''}")
            self.check_worker()
            time.sleep(START_POLL_S)

    def wait_drained(self, n: int) -> float:
        """Until the message hash is empty (every message acked); the time seen."""
        deadline = time.monotonic() + wait_timeout(n)
        while self.unacked() > 0:
            if time.monotonic() > deadline:
                raise BenchError(f"dramatiq: {self.unacked()} messages not acked after "
                                 f"{wait_timeout(n)} s")
            self.check_worker()
            time.sleep(DRAIN_POLL_S)
        return time.time()

    def check_all_processed(self) -> None:
        """Nothing queued, unacked, waiting for a retry or dead-lettered."""
        left = {
            "queued": int(self.client.llen(self.queue_key)),
            "unacked": self.unacked(),
            "waiting for a retry": int(self.client.hlen(self.delay_msgs_key)),
            "dead-lettered": int(self.client.zcard(self.dead_key)),
            "fetched, not acked": sum(int(self.client.scard(k))
                                      for k in self.client.scan_iter(self.acks_pattern)),
        }
        bad = {k: v for k, v in left.items() if v}
        if bad:
            raise BenchError(f"dramatiq: messages left after the drain: {bad}")

    def check_results(self, n: int) -> None:
        """With ``--dramatiq-results``: at least `n` results stored (they expire after
        dramatiq's default result TTL, 10 minutes)."""
        if not self.args.dramatiq_results:
            return
        stored = sum(1 for _ in self.client.scan_iter(self.results_pattern, count=1000))
        if stored < n:
            raise BenchError(f"dramatiq: {stored} results stored for {n} messages")


def measure_dramatiq(sys_: Dramatiq, n: int, probe: RedisProbe) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print(f"[dramatiq] namespace {sys_.queue_key.rsplit(':', 1)[0]}, "
          f"{sys_.args.concurrency} processes x {sys_.threads} threads")
    sys_.check_all_processed()
    # a stopped worker's processes stay in the heartbeat set: count only the new ones;
    # results of an earlier configuration would be counted as this one's
    sys_.client.delete(sys_.heartbeats_key,
                       *sys_.client.scan_iter(sys_.results_pattern, count=1000))

    print(f"  send {n} (no worker) ...", end="", flush=True)
    out["send_s"] = sys_.send_all(n)
    print(f" {out['send_s']:.2f}s", flush=True)
    queued = int(sys_.client.llen(sys_.queue_key))
    if queued != n or sys_.unacked() != n:
        raise BenchError(f"dramatiq: {queued} of {n} messages queued after the send")

    print(f"  drain {n} (worker started now) ...", end="", flush=True)
    started = time.time()
    sys_.start_worker()
    first_fetch, t0, remaining = sys_.wait_consuming(n)
    meter = CpuMeter(probe, sys_.worker)
    end = sys_.wait_drained(n)
    out["drain_worker_cpu_s_per_10k"], out["drain_redis_cpu_s_per_10k"] = \
        meter.per_10k(remaining)
    sys_.check_all_processed()
    sys_.check_results(n)
    out["worker_start_to_first_fetch_s"] = first_fetch - started
    out["worker_first_to_all_consuming_s"] = t0 - first_fetch
    out["drain_runs"] = remaining
    out["drain_s"] = end - t0
    out["drain_runs_per_s"] = remaining / (end - t0)
    out["drain_from_first_fetch_runs_per_s"] = n / (end - first_fetch)
    print(f" {end - t0:.2f}s for {remaining} ({out['drain_runs_per_s']:,.0f}/s; first fetch "
          f"{first_fetch - started:.2f}s after start, all {sys_.args.concurrency} consuming "
          f"{t0 - first_fetch:.3f}s later)", flush=True)

    print(f"  end to end {n} (warm worker) ...", end="", flush=True)
    start = time.time()
    out["e2e_send_s"] = sys_.send_all(n)
    end = sys_.wait_drained(n)
    sys_.check_all_processed()
    out["e2e_s"] = end - start
    out["e2e_runs_per_s"] = n / (end - start)
    print(f" {end - start:.2f}s (send {out['e2e_send_s']:.2f}s)", flush=True)
    sys_.stop_worker()
    return out


# -- tasks-core ----------------------------------------------------------------------------


class TasksCore:
    """The tasks-core worker, `.map()` and `wait_all`, and the consumer's pause/resume."""

    label = "tasks-core"

    def __init__(self, args: argparse.Namespace, procs: Processes, env: dict[str, str]
                 ) -> None:
        import tasks_core
        from bench import _tc_tasks as mod
        from tasks_core.process_runtime import get_runtime

        self.args, self.procs, self.env = args, procs, env
        self.task = mod.noop
        self.tc = tasks_core
        self.rt = get_runtime()
        settings = self.rt.settings
        if settings.redis_url != env["TASKS_CORE_REDIS_URL"] or \
                settings.key_prefix != env["TASKS_CORE_KEY_PREFIX"]:
            raise BenchError("tasks_core settings were read before the bench set them")
        self.chunk = settings.map_chunk_size
        self.control = self.rt.app.control  # same key prefix as the worker's broker
        self.node = f"tc-{secrets.token_hex(3)}@{socket.gethostname()}"
        self.worker: Managed | None = None

    def worker_argv(self) -> list[str]:
        exe = find_executable("tasks-core")
        head = [exe] if exe else [sys.executable, "-c",
                                  "from tasks_core.cli.main import app; app()"]
        return [*head, "worker", "--pool", TC_POOL, "-c", str(self.args.concurrency),
                "--pool-impl", "prefork", "-i", "bench._tc_tasks", "--loglevel", "WARNING",
                "--hostname", self.node]

    def start_worker(self) -> None:
        self.worker = self.procs.start("worker-tc", self.worker_argv(), env=self.env, cwd=REPO)
        deadline = time.monotonic() + 90
        while not self.control.ping(destination=[self.node], timeout=0.5):
            self.check_worker()
            if time.monotonic() > deadline:
                raise BenchError(f"tasks-core worker did not answer a ping in 90 s:\n"
                                 f"{self.worker.log_tail()}")

    def check_worker(self) -> None:
        if self.worker is not None and self.worker.proc.poll() is not None:
            raise BenchError(f"tasks-core worker exited ({self.worker.proc.returncode}):\n"
                             f"{self.worker.log_tail()}")

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.procs.stop(self.worker)
            self.worker = None

    def _control(self, command: str) -> None:
        replies = getattr(self.control, command)(TC_POOL, destination=[self.node], reply=True,
                                                 timeout=5.0)
        if not replies:
            raise BenchError(f"tasks-core worker did not acknowledge {command}")

    def depth(self) -> int:
        return self.rt.queues.depth(TC_POOL)

    def wait_done(self, futures: Any, n: int) -> None:
        states = self.tc.wait_all(futures, timeout=wait_timeout(n))
        bad = [s for s in states if s != self.tc.StateName.COMPLETED]
        if bad:
            raise BenchError(f"tasks-core: {len(bad)} runs did not complete (e.g. {bad[0]})")

    def warm_up(self) -> None:
        self.wait_done(self.task.map(range(WARMUP_MAP)), WARMUP_MAP)
        for i in range(WARMUP_ROUNDTRIPS):
            if self.task.delay(i).result(timeout=30) != i:
                raise BenchError("tasks-core: a round trip returned a wrong value")

    def map_and_wait(self, n: int) -> tuple[float, float]:
        """`.map(range(n))` then `wait_all`; (call seconds, call-to-all-done seconds)."""
        start = time.perf_counter()
        futures = self.task.map(range(n))
        sent = time.perf_counter()
        self.wait_done(futures, n)
        return sent - start, time.perf_counter() - start

    def paused_map_drain(self, n: int, probe: RedisProbe) -> tuple[float, float, float, float]:
        """Consumer cancelled, `.map(range(n))`, then resumed; (call seconds, drain
        seconds from just before add_consumer to wait_all's return, the worker's and
        redis-server's CPU seconds per 10,000 runs over the drain)."""
        self._control("cancel_consumer")
        time.sleep(PAUSE_SETTLE_S)
        if self.depth() != 0:
            raise BenchError("tasks-core: queue not empty before the paused .map()")
        start = time.perf_counter()
        futures = self.task.map(range(n))
        call_s = time.perf_counter() - start
        expected = math.ceil(n / self.chunk)
        if (queued := self.depth()) != expected:
            raise BenchError(f"tasks-core: {queued} messages queued, expected {expected} "
                             "(the paused worker consumed some, or some are missing)")
        meter = CpuMeter(probe, self.worker)
        t0 = time.perf_counter()
        self._control("add_consumer")
        self.wait_done(futures, n)
        drain_s = time.perf_counter() - t0
        return (call_s, drain_s, *meter.per_10k(n))


def measure_tasks_core(sys_: TasksCore, n: int, paused: bool, probe: RedisProbe
                       ) -> dict[str, Any]:
    out: dict[str, Any] = {"map_chunk_size": sys_.chunk}
    print(f"[tasks-core] node {sys_.node}, {sys_.args.concurrency} prefork children, "
          f"map_chunk_size {sys_.chunk}")
    for label, fn in (("start worker", sys_.start_worker), ("warm up", sys_.warm_up)):
        print(f"  {label} ...", end="", flush=True)
        start = time.perf_counter()
        fn()
        print(f" {time.perf_counter() - start:.2f}s", flush=True)

    print(f"  map {n} ...", end="", flush=True)
    out["map_call_s"], out["map_s"] = sys_.map_and_wait(n)
    out["map_runs_per_s"] = n / out["map_s"]
    print(f" {out['map_s']:.2f}s (map call {out['map_call_s']:.2f}s)", flush=True)

    if paused:
        print(f"  map {n}, consumer paused, then drain ...", end="", flush=True)
        (out["paused_map_call_s"], out["paused_drain_s"], out["drain_worker_cpu_s_per_10k"],
         out["drain_redis_cpu_s_per_10k"]) = sys_.paused_map_drain(n, probe)
        out["paused_drain_runs_per_s"] = n / out["paused_drain_s"]
        print(f" drain {out['paused_drain_s']:.2f}s (map call {out['paused_map_call_s']:.2f}s)",
              flush=True)
    sys_.stop_worker()
    return out


# -- main ----------------------------------------------------------------------------------


def measure_round(args: argparse.Namespace, procs: Processes, env: dict[str, str],
                  client: redis.Redis, probe: RedisProbe
                  ) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
    """One measurement of each system: dramatiq per thread count, then tasks-core."""
    dq: dict[int, dict[str, Any]] = {}
    for threads in args.dramatiq_threads:
        dq_sys = Dramatiq(args, procs, env, client, threads)
        try:
            dq[threads] = measure_dramatiq(dq_sys, args.n, probe)
        finally:
            dq_sys.stop_worker()
    tc_sys = TasksCore(args, procs, env)
    try:
        tc = measure_tasks_core(tc_sys, args.n, paused=not args.no_paused, probe=probe)
    finally:
        tc_sys.stop_worker()
    return dq, tc


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--n", type=int, default=10_000, help="runs per measurement")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="worker processes of each system")
    parser.add_argument("--dramatiq-threads", type=int, nargs="+", default=[1, 8],
                        metavar="T", help="dramatiq worker threads per process, one "
                        "measurement each (default: 1 8)")
    parser.add_argument("--dramatiq-results", action="store_true",
                        help="dramatiq stores every result (Results middleware, Redis "
                        "backend), as tasks-core does; by default it stores none")
    parser.add_argument("--no-paused", action="store_true",
                        help="skip tasks-core's pure drain (consumer paused during .map())")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure both systems this many times, one after the other, "
                        "and judge the median round (by the bulk ratio): on a machine whose "
                        "speed drifts a single round can be a fifth off")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--redis-server", default=None,
                        help="redis-server binary (default: /usr/bin/redis-server if present)")
    args = parser.parse_args(argv)
    for name in ("n", "concurrency", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    if min(args.dramatiq_threads) < 1:
        parser.error("--dramatiq-threads must be >= 1")
    args.dramatiq_threads = sorted(set(args.dramatiq_threads))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body(procs: Processes) -> int:
        redis_proc, url = start_redis(procs, binary=args.redis_server)
        key_prefix = f"bench{os.getpid()}x{secrets.token_hex(4)}"
        env = prepare_env(url, key_prefix, procs.workdir, {
            "BENCH_REDIS_URL": url,
            "BENCH_DRAMATIQ_NAMESPACE": f"{key_prefix}-dramatiq",
            "BENCH_DRAMATIQ_RESULTS": "1" if args.dramatiq_results else "0"})
        client = redis.Redis.from_url(url, decode_responses=True)
        info = client.info("server")
        probe = RedisProbe(client, redis_proc.proc.pid)
        print(f"redis {info['redis_version']} on {url} (pid {redis_proc.proc.pid}), "
              f"key prefix {key_prefix}, {os.cpu_count()} CPUs")

        import dramatiq

        rounds = []
        for number in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"-- round {number} of {args.rounds}")
            dq, tc = measure_round(args, procs, env, client, probe)
            rounds.append((build_report(dq, tc, args)[1]["ratio"], dq, tc))
        ratios = [ratio for ratio, _, _ in rounds]
        _, dq, tc = sorted(rounds, key=lambda r: r[0])[(len(rounds) - 1) // 2]
        table, summary = build_report(dq, tc, args)
        print()
        if args.rounds > 1:
            print(f"bulk ratio per round: {', '.join(f'{r:.2f}x' for r in ratios)}; the "
                  f"table is the median round's (the lower middle one for an even count)")
            summary["ratios"] = ratios
        print(table)
        if args.json:
            payload = {
                "config": {"n": args.n, "concurrency": args.concurrency, "rounds": args.rounds,
                           "dramatiq": dramatiq.__version__,
                           "dramatiq_results": args.dramatiq_results,
                           "redis": info["redis_version"],
                           "python": platform.python_version(), "cpus": os.cpu_count(),
                           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
                "dramatiq": {f"threads_{t}": v for t, v in dq.items()},
                "tasks_core": tc,
                "target": summary,
                "table": table,
            }
            write_json(args.json, payload)
        return 0

    return run_bench(body)


if __name__ == "__main__":
    sys.exit(main())
