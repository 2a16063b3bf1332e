"""Deployments and beat: run_deployment round trips, schedule and deferred-run lateness.

Run from the repo root::

    .venv/bin/python bench/deployments.py [--m 200] [--schedules 1000] [--deferred-n 500] \
        [--beat-intervals 1.0] [--horizon 60] [--redis-server PATH]

One run starts its own redis-server (no RDB, no AOF) on a free port, drops inherited
TASKS_CORE_* variables, points TASKS_CORE_CONFIG at an empty TOML file, and measures:

1. run_deployment round trip with a warm worker: ``noop_flow`` (bench/_deploy_flows.py)
   deployed as ``noop-flow/bench`` to the pool ``bench_deploy``; one worker subprocess
   (``tasks-core worker --pool bench_deploy --pool bench_deferred -c 2 --pool-impl prefork
   -i bench._deploy_flows``); ``--warmup`` untimed runs, then M sequential
   ``run_deployment("noop-flow/bench", parameters={"x": i}, timeout=30)``, each timed from
   the call to its return (state Completed; the result, checked == i afterwards, is not
   timed). p50 / p99 in ms. Target p50 < 25 ms.
2. schedule firing lateness with ``--schedules`` active schedules (under a fresh key
   prefix, no worker): that many deployments of ``noop_flow`` (``noop-flow/sched-NNNN``,
   pool ``bench_sched``) are created (paused, no schedules; timed: this is how long
   deploying takes here), then deployed again with ``schedules=[{"interval":
   --schedule-interval, "anchor_date": A_i}]``, the anchors (= first due times) spread
   evenly over --spread seconds from max(--lead, 3 x the creation time + 3) seconds after
   the second pass starts (so every first due time comes after deploying and beat's first
   tick, whatever deploying costs). Then this process runs beat itself (beat/main.py
   ``run_beat`` in a thread, TASKS_CORE_BEAT_INTERVAL_SECONDS=--loop-interval, default 1 s:
   its leader lock, its wake-ups at the earliest due time, every job) until every first
   due time has passed by 1 s. ``beat.deferred.send_due`` is wrapped (in this process only)
   to stamp the wall-clock time each batch of messages was pushed; lateness = that time -
   the run's scheduled_time, for every run sent. Target p99 < 250 ms. Beat creates runs up to
   schedule_horizon_seconds ahead (at most schedule_max_runs per deployment): the default
   horizon, 3600 s, would make the first tick create 100 runs per deployment (100,000 runs,
   about a minute on a 2-core machine), so this part sets
   TASKS_CORE_SCHEDULE_HORIZON_SECONDS=--horizon (default 60 s, i.e. 2 runs ahead per
   deployment with a 30 s interval). The durations of scheduler.tick (at most 20 ms of run
   creation per pass), deferred.tick and sweeper.tick are printed too.
3. deferred-task lateness: for each beat interval in --beat-intervals, a real
   ``tasks-core beat`` subprocess with TASKS_CORE_BEAT_INTERVAL_SECONDS set to it (it must
   hold the beat lock before anything is sent), the worker of part 1 serving the pool
   ``bench_deferred``; --deferred-n ``noop_task.apply_async(args=[i], countdown=c_i)`` with
   c_i evenly spread over [2, 10] s; after the last one is due, waits for all to complete.
   Lateness = the run's start_time - its scheduled_time (both from the run records). p50 /
   p99 ms (no target given: reported for information).

Percentiles use linear interpolation. The machine may be shared: numbers are noisy.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import socket
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench._common import (  # noqa: E402
    Managed,
    Processes,
    find_executable,
    install_signal_exit,
    percentile,
    prepare_env,
    start_redis,
)

FLOW_POOL = "bench_deploy"
SCHED_POOL = "bench_sched"
DEPLOYMENT = "noop-flow/bench"


class BenchError(RuntimeError):
    """The bench could not measure what it should (not a slow result)."""


@dataclass
class Row:
    metric: str
    value: float | None
    unit: str = "ms"
    target: float | None = None  # value must be below it

    def cells(self) -> tuple[str, str, str, str]:
        if self.value is None:
            return self.metric, "n/a", "-", "-"
        shown = f"{self.value:.1f} {self.unit}"
        if self.target is None:
            return self.metric, shown, "-", "info"
        return (self.metric, shown, f"< {self.target:g} {self.unit}",
                "PASS" if self.value < self.target else "MISS")


# -- environment and processes ---------------------------------------------------------------




def cli_head() -> list[str]:
    exe = find_executable("tasks-core")
    return [exe] if exe else [sys.executable, "-m", "tasks_core.cli.main"]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str,
               check: Callable[[], None] | None = None, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if check is not None:
            check()
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def alive(managed: Managed) -> Callable[[], None]:
    def check() -> None:
        if managed.proc.poll() is not None:
            raise BenchError(f"{managed.label} exited ({managed.proc.returncode}):\n"
                             f"{managed.log_tail()}")
    return check


def start_worker(procs: Processes, env: dict[str, str], client: redis.Redis, prefix: str,
                 concurrency: int) -> Managed:
    from bench._deploy_flows import TASK_POOL

    node = f"bench-deploy-{secrets.token_hex(3)}@{socket.gethostname()}"
    argv = [*cli_head(), "worker", "--pool", FLOW_POOL, "--pool", TASK_POOL,
            "-c", str(concurrency), "--pool-impl", "prefork", "-i", "bench._deploy_flows",
            "--loglevel", "WARNING", "--hostname", node]
    worker = procs.start("worker", argv, env=env, cwd=REPO)
    wait_until(lambda: len(list(client.scan_iter(f"{prefix}:proc:*"))) >= concurrency, 90,
               "the worker's pool processes to heartbeat", alive(worker))
    return worker


def start_beat(procs: Processes, env: dict[str, str], client: redis.Redis, prefix: str,
               interval: float) -> Managed:
    beat_env = {**env, "TASKS_CORE_BEAT_INTERVAL_SECONDS": str(interval)}
    beat = procs.start(f"beat-{interval:g}", [sys.executable, "-m", "tasks_core.cli.main",
                                              "beat", "--loglevel", "WARNING"],
                       env=beat_env, cwd=REPO)
    me = f":{beat.proc.pid}"
    lock = f"{prefix}:lock:beat"
    # a previous beat's lock lives 3 x its interval after it stopped
    wait_until(lambda: str(client.get(lock) or "").endswith(me), 30,
               f"beat (interval {interval:g} s) to hold the beat lock", alive(beat), 0.05)
    return beat


# -- 1. run_deployment round trip ------------------------------------------------------------


def bench_round_trip(args: argparse.Namespace) -> list[float]:
    from tasks_core.deployments import run_deployment
    from tasks_core.states import StateName

    def one(i: int) -> float:
        started = time.perf_counter()
        run = run_deployment(DEPLOYMENT, parameters={"x": i}, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if run.state != StateName.COMPLETED:
            raise BenchError(f"run {run.id} ended {run.state}: {run.state_message}")
        if run.result() != i:
            raise BenchError(f"run {run.id} returned {run.result()!r}, expected {i}")
        return elapsed

    for i in range(args.warmup):
        one(-1 - i)
    return [one(i) for i in range(args.m)]


# -- 2. schedule lateness (beat's loop, in this process) -------------------------------------


@dataclass
class ScheduleResult:
    lateness_ms: list[float]
    first_due_sent: int
    created: int
    sched_ticks_s: list[float]
    deferred_ticks_s: list[float]
    sweep_ticks_s: list[float]
    create_s: float
    update_s: float
    lead_s: float


def bench_schedules(args: argparse.Namespace) -> ScheduleResult:
    import beat.deferred as deferred_mod
    from beat import scheduler, sweeper
    from beat.main import run_beat
    from bench._deploy_flows import noop_flow

    n = args.schedules
    names = [f"sched-{i:04d}" for i in range(n)]
    # pass 1 creates the deployments (paused, no schedules) and tells how long deploying
    # takes here; pass 2 gives them their schedules, anchored far enough ahead that every
    # first due time comes after pass 2 and beat's first tick
    t0 = time.perf_counter()
    for name in names:
        noop_flow.deploy(name, work_pool_name=SCHED_POOL, source=str(REPO), paused=True)
    create_s = time.perf_counter() - t0
    lead = max(args.lead, 3.0 * create_s + 3.0)  # the redeploy, then beat's first passes
    first = datetime.now(UTC) + timedelta(seconds=lead)
    anchors = [first + timedelta(seconds=args.spread * i / max(1, n - 1)) for i in range(n)]
    t0 = time.perf_counter()
    for name, anchor in zip(names, anchors, strict=True):
        noop_flow.deploy(name, work_pool_name=SCHED_POOL, source=str(REPO),
                         schedules=[{"interval": args.schedule_interval,
                                     "anchor_date": anchor.isoformat()}])
    update_s = time.perf_counter() - t0
    if time.time() > first.timestamp() - 1:
        raise BenchError(f"deploying took {create_s:.1f} s + {update_s:.1f} s: raise --lead")
    first_due = {a.timestamp() for a in anchors}
    last_due = max(first_due)

    sent_at: dict[str, tuple[float, float]] = {}  # run id -> (sent, scheduled)
    sched_ticks: list[float] = []
    deferred_ticks: list[float] = []
    sweep_ticks: list[float] = []
    created_count = [0]
    originals = (deferred_mod.send_due, deferred_mod.tick, scheduler.tick, sweeper.tick)

    def stamped(rt_: Any, records: Any) -> None:
        originals[0](rt_, records)
        sent = time.time()
        for record in records:
            when = record.scheduled_time.timestamp() if record.scheduled_time else float("nan")
            sent_at[record.id] = (sent, when)

    def timed_deferred(rt_: Any, now: Any) -> Any:
        t = time.perf_counter()
        try:
            return originals[1](rt_, now)
        finally:
            deferred_ticks.append(time.perf_counter() - t)

    def timed_scheduler(rt_: Any, now: Any, **options: Any) -> Any:
        t = time.perf_counter()
        created = originals[2](rt_, now, **options)
        sched_ticks.append(time.perf_counter() - t)
        created_count[0] += len(created)
        return created

    def timed_sweeper(rt_: Any, now: Any) -> Any:
        t = time.perf_counter()
        try:
            return originals[3](rt_, now)
        finally:
            sweep_ticks.append(time.perf_counter() - t)

    deferred_mod.send_due = stamped
    deferred_mod.tick = timed_deferred
    scheduler.tick = timed_scheduler
    sweeper.tick = timed_sweeper
    stop = threading.Event()
    beat = threading.Thread(target=run_beat, kwargs={"stop": stop, "loglevel": "WARNING"},
                            name="bench-beat")
    beat.start()  # beat/main.py's own loop: leader lock, wake-ups, every job
    try:
        while time.time() < last_due + 1.0:
            if not beat.is_alive():
                raise BenchError("the beat thread stopped early")
            time.sleep(0.2)
    finally:
        stop.set()
        beat.join(30)
        deferred_mod.send_due, deferred_mod.tick, scheduler.tick, sweeper.tick = originals
    lateness = [(sent - when) * 1000 for sent, when in sent_at.values()]
    first_keys = {round(d, 3) for d in first_due}
    first_sent = sum(1 for _, when in sent_at.values() if round(when, 3) in first_keys)
    return ScheduleResult(sorted(lateness), first_sent, created_count[0],
                          sched_ticks, deferred_ticks, sweep_ticks, create_s, update_s,
                          lead)


# -- 3. deferred tasks with a real beat -------------------------------------------------------


def bench_deferred(args: argparse.Namespace, procs: Processes, env: dict[str, str],
                   client: redis.Redis, prefix: str, interval: float,
                   worker: Managed) -> list[float]:
    from bench._deploy_flows import noop_task
    from tasks_core import StateName, wait_all
    from tasks_core.process_runtime import get_runtime

    beat = start_beat(procs, env, client, prefix, interval)
    try:
        n = args.deferred_n
        lo, hi = args.countdown_min, args.countdown_max
        futures = [noop_task.apply_async(args=[i], countdown=lo + (hi - lo) * i / max(1, n - 1))
                   for i in range(n)]
        # stay idle until the last one is due (a polling waiter would compete for the CPU)
        deadline = time.monotonic() + hi + 1.0
        while time.monotonic() < deadline:
            alive(beat)()
            alive(worker)()
            time.sleep(0.25)
        states = wait_all(futures, timeout=60)
        bad = [s for s in states if s != StateName.COMPLETED]
        if bad:
            raise BenchError(f"{len(bad)} deferred runs did not complete (e.g. {bad[0]})")
        records = get_runtime().store.get_many([f.id for f in futures])
    finally:
        procs.stop(beat)
    lateness = []
    for record in records:
        if record.start_time is None or record.scheduled_time is None:
            raise BenchError(f"run {record.id} has no start_time or scheduled_time")
        lateness.append((record.start_time - record.scheduled_time).total_seconds() * 1000)
    return sorted(lateness)


# -- main -----------------------------------------------------------------------------------


def switch_prefix(prefix: str, extra: dict[str, str]) -> None:
    from tasks_core.process_runtime import reset_runtime
    from tasks_core.settings import reset_settings

    reset_runtime()
    os.environ["TASKS_CORE_KEY_PREFIX"] = prefix
    os.environ.update(extra)
    reset_settings()


def print_table(rows: list[Row], notes: list[str], argv: list[str]) -> None:
    cells = [("metric", "value", "target", "result"), *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    print()
    for i, c in enumerate(cells):
        print("  ".join(text.ljust(w) for text, w in zip(c, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for note in notes:
        print(note)
    print("command: " + " ".join(shlex.quote(a) for a in argv))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=200, help="timed run_deployment round trips")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--schedule-interval", type=float, default=30.0)
    parser.add_argument("--lead", type=float, default=5.0,
                        help="seconds from deploy start to the first due time")
    parser.add_argument("--spread", type=float, default=20.0,
                        help="seconds over which the first due times are spread")
    parser.add_argument("--horizon", type=float, default=60.0,
                        help="TASKS_CORE_SCHEDULE_HORIZON_SECONDS of part 2")
    parser.add_argument("--loop-interval", type=float, default=1.0,
                        help="beat_interval_seconds of part 2's beat")
    parser.add_argument("--deferred-n", type=int, default=500)
    parser.add_argument("--countdown-min", type=float, default=2.0)
    parser.add_argument("--countdown-max", type=float, default=10.0)
    parser.add_argument("--beat-intervals", default="1.0",
                        help="beat intervals of part 3, comma-separated")
    parser.add_argument("--redis-server", default=None)
    args = parser.parse_args(argv)
    intervals = [float(v) for v in args.beat_intervals.split(",") if v.strip()]
    command = [sys.executable, *(argv if argv is not None else sys.argv)]

    install_signal_exit()
    procs = Processes()
    started = time.perf_counter()
    try:
        _, url = start_redis(procs, binary=args.redis_server)
        run_tag = secrets.token_hex(3)
        prefix = f"bd{run_tag}"
        env = prepare_env(url, prefix, procs.workdir)
        client = redis.Redis.from_url(url, decode_responses=True)
        rows, notes = run(args, procs, env, client, prefix, run_tag, intervals)
    except BenchError as exc:
        print(f"bench error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        try:
            from tasks_core.process_runtime import reset_runtime

            reset_runtime()  # flush and stop this process's reporter before Redis goes
        except Exception:  # best effort at exit
            pass
        procs.stop_all()
    notes.append(f"total bench time: {time.perf_counter() - started:.0f} s "
                 f"({os.cpu_count()} CPUs)")
    print_table(rows, notes, command)
    return 0


def run(args: argparse.Namespace, procs: Processes, env: dict[str, str],
        client: redis.Redis, prefix: str, run_tag: str,
        intervals: list[float]) -> tuple[list[Row], list[str]]:
    from bench._deploy_flows import noop_flow

    rows: list[Row] = []
    notes: list[str] = []

    # 1. run_deployment round trip (the worker also serves part 3's pool)
    noop_flow.deploy("bench", work_pool_name=FLOW_POOL, source=str(REPO))
    print(f"[1] starting a worker (concurrency {args.concurrency}) ...", flush=True)
    worker = start_worker(procs, env, client, prefix, args.concurrency)
    print(f"[1] {args.warmup} warm-up + {args.m} timed run_deployment round trips ...",
          flush=True)
    trips = sorted(bench_round_trip(args))
    rows += [Row(f"1. run_deployment round trip p50 (M={args.m})", percentile(trips, 50),
                 target=25.0),
             Row("1. run_deployment round trip p99", percentile(trips, 99)),
             Row("1. run_deployment round trip mean", statistics.fmean(trips))]

    # 3. deferred tasks, real beat + the worker (same prefix; no scheduled deployments)
    deferred_rows: list[Row] = []
    for interval in intervals:
        print(f"[3] {args.deferred_n} deferred tasks, beat interval {interval:g} s ...",
              flush=True)
        late = bench_deferred(args, procs, env, client, prefix, interval, worker)
        label = f"3. deferred task lateness, beat {interval:g} s"
        deferred_rows += [Row(f"{label} p50 (N={args.deferred_n})", percentile(late, 50)),
                          Row(f"{label} p99", percentile(late, 99)),
                          Row(f"{label} max", late[-1])]
    procs.stop(worker)

    # 2. schedule lateness: fresh key prefix, beat's loop in this process, no worker
    switch_prefix(f"bs{run_tag}", {
        "TASKS_CORE_SCHEDULE_HORIZON_SECONDS": str(args.horizon),
        "TASKS_CORE_BEAT_INTERVAL_SECONDS": str(args.loop_interval)})
    print(f"[2] {args.schedules} scheduled deployments, then beat's loop (interval "
          f"{args.loop_interval:g} s) until the last first due time ...", flush=True)
    res = bench_schedules(args)
    late = res.lateness_ms
    if res.first_due_sent != args.schedules:
        notes.append(f"WARNING: only {res.first_due_sent} of {args.schedules} first due runs "
                     "were sent")
    rows += [Row(f"2. schedule lateness p50 ({args.schedules} schedules, "
                 f"{len(late)} runs sent)", percentile(late, 50) if late else None),
             Row("2. schedule lateness p99", percentile(late, 99) if late else None,
                 target=250.0),
             Row("2. schedule lateness max", late[-1] if late else None),
             Row(f"2. deploy {args.schedules} new deployments", res.create_s, "s"),
             Row("2. redeploy them with schedules", res.update_s, "s"),
             Row("2. runs created by the scheduler", res.created, ""),
             Row("2. scheduler.tick mean", statistics.fmean(res.sched_ticks_s) * 1000),
             Row("2. scheduler.tick p99", percentile(sorted(res.sched_ticks_s), 99) * 1000),
             Row("2. scheduler.tick max", max(res.sched_ticks_s) * 1000),
             Row("2. deferred.tick mean", statistics.fmean(res.deferred_ticks_s) * 1000),
             Row("2. deferred.tick max", max(res.deferred_ticks_s) * 1000),
             Row("2. sweeper.tick mean", statistics.fmean(res.sweep_ticks_s) * 1000),
             Row("2. sweeper.tick max", max(res.sweep_ticks_s) * 1000),
             Row("2. beat passes", len(res.deferred_ticks_s), "")]
    rows += deferred_rows
    notes.append(
        f"settings: part 1 M={args.m} warm-up={args.warmup} worker -c {args.concurrency} "
        f"prefork; part 2 {args.schedules} deployments interval={args.schedule_interval:g} s, "
        f"first due times spread over {args.spread:g} s from {res.lead_s:.1f} s after the "
        "scheduled redeploy began, beat's run_beat in a thread, beat_interval_seconds="
        f"{args.loop_interval:g} s, schedule_horizon_seconds={args.horizon:g} (default 3600); "
        f"part 3 N={args.deferred_n} countdowns {args.countdown_min:g}-"
        f"{args.countdown_max:g} s, real beat subprocess per interval, same worker; "
        "other settings at their defaults")
    return rows, notes


if __name__ == "__main__":
    sys.exit(main())
