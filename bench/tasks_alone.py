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
   tasks-core with ``wait_all(futures)`` (it polls every 20 ms, pipelined HGETs of the
   states); Celery with the equivalent (every 20 ms, MGET of the remaining
   ``celery-task-meta-<id>`` keys, done when every result is present and SUCCESS; the queue
   is then also checked to be empty).
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
import json
import os
import platform
import secrets
import socket
import sys
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import redis  # noqa: E402

from bench._common import (  # noqa: E402
    Managed,
    Processes,
    RedisProbe,
    chunks,
    find_executable,
    install_signal_exit,
    iso_timestamp,
    percentile,
    prepare_env,
    start_redis,
)

PLAIN_QUEUE = "bench_plain"
TC_POOL = "bench_tc"
WARMUP_TASKS = 200
WARMUP_ROUNDTRIPS = 20
WARMUP_MAP = 200
PAUSE_SETTLE_S = 1.5  # > kombu's 1 s BRPOP timeout: no fetch in flight on a paused queue
POLL_S = 0.02  # both waiters poll every 20 ms (wait_all's default)

TARGETS = {
    "enqueue_rate": 0.8,
    "drain_throughput": 0.8,
    "roundtrip_p50": 1.5,
    "map_runs_per_s": 3000.0,
}


class BenchError(RuntimeError):
    pass


# -- environment ---------------------------------------------------------------------------




# -- systems -------------------------------------------------------------------------------


class System(ABC):
    """One system under test: its worker, how to send, wait for and time its tasks."""

    label = ""
    key = ""
    queue_key = ""

    def __init__(self, args: argparse.Namespace, procs: Processes, env: dict[str, str],
                 client: redis.Redis, control_app: Any) -> None:
        self.args = args
        self.procs = procs
        self.env = env
        self.client = client
        self.control = control_app.control
        self.node = f"{self.key}-{secrets.token_hex(3)}@{socket.gethostname()}"
        self.worker: Managed | None = None

    # worker lifecycle
    @abstractmethod
    def worker_argv(self) -> list[str]:
        """Implemented per system."""

    def start_worker(self) -> None:
        self.worker = self.procs.start(f"worker-{self.key}", self.worker_argv(), env=self.env,
                                       cwd=self.procs.workdir)
        deadline = time.monotonic() + 90
        while True:
            self.check_worker()
            if self.control.ping(destination=[self.node], timeout=0.5):
                return
            if time.monotonic() > deadline:
                raise BenchError(f"{self.label} worker did not answer a ping in 90 s:\n"
                                 f"{self.worker.log_tail()}")

    def check_worker(self) -> None:
        if self.worker is not None and self.worker.proc.poll() is not None:
            raise BenchError(f"{self.label} worker exited ({self.worker.proc.returncode}):\n"
                             f"{self.worker.log_tail()}")

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.procs.stop(self.worker)
            self.worker = None

    def _control(self, command: str) -> None:
        replies = getattr(self.control, command)(self.queue_key, destination=[self.node],
                                                 reply=True, timeout=5.0)
        if not replies:
            raise BenchError(f"{self.label} worker did not acknowledge {command}")

    def pause(self) -> None:
        self._control("cancel_consumer")
        time.sleep(PAUSE_SETTLE_S)

    def resume(self) -> None:
        self._control("add_consumer")

    def queue_length(self) -> int:
        return int(self.client.llen(self.queue_key))

    # sending and waiting
    @abstractmethod
    def send(self, i: int) -> Any:
        """Implemented per system."""

    @abstractmethod
    def wait_done(self, handles: list[Any], timeout: float) -> None:
        """Implemented per system."""

    @abstractmethod
    def completion_times(self, handles: list[Any]) -> list[float]:
        """Implemented per system."""

    @abstractmethod
    def roundtrip(self, i: int) -> Any:
        """Implemented per system."""

    def breakdown(self, handle: Any) -> dict[str, float]:
        """Redis MEMORY USAGE of what one finished task holds, by part (bytes)."""
        return {"result key": float(self.client.memory_usage(
            f"celery-task-meta-{handle.id}", samples=0) or 0)}

    def warm_up(self) -> None:
        handles = [self.send(i) for i in range(WARMUP_TASKS)]
        self.wait_done(handles, timeout=120)
        for i in range(WARMUP_ROUNDTRIPS):
            if self.roundtrip(i) != i:
                raise BenchError(f"{self.label}: round trip returned a wrong value")


class PlainCelery(System):
    label = "plain Celery"
    key = "plain"
    queue_key = PLAIN_QUEUE

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        from bench import _plain_celery_tasks as mod

        self.task = mod.noop
        self.app = mod.app

    def worker_argv(self) -> list[str]:
        celery = find_executable("celery")
        head = [celery] if celery else [sys.executable, "-m", "celery"]
        events = ["-E"] if self.args.task_events else []
        return [*head, "-A", "bench._plain_celery_tasks", "worker",
                "-c", str(self.args.concurrency), "-P", "prefork", "--loglevel", "WARNING",
                "-Q", PLAIN_QUEUE, "-n", self.node, *events]

    def send(self, i: int) -> Any:
        return self.task.delay(i)

    def _metas(self, ids: list[str]) -> list[Any]:
        values: list[Any] = []
        for part in chunks(ids, 1000):
            values.extend(self.client.mget([f"celery-task-meta-{i}" for i in part]))
        return values

    def wait_done(self, handles: list[Any], timeout: float) -> None:
        """Poll like wait_all: MGET the results still missing every 20 ms."""
        deadline = time.monotonic() + timeout
        todo = [h.id for h in handles]
        while todo:
            left = []
            for task_id, raw in zip(todo, self._metas(todo), strict=True):
                if raw is None:
                    left.append(task_id)
                    continue
                status = json.loads(raw)["status"]
                if status != "SUCCESS":
                    raise BenchError(f"plain Celery task {task_id} ended {status}")
            todo = left
            if todo:
                if time.monotonic() > deadline:
                    raise BenchError(f"plain Celery: {len(todo)} of {len(handles)} tasks not "
                                     f"done after {timeout}s")
                self.check_worker()
                time.sleep(POLL_S)

    def completion_times(self, handles: list[Any]) -> list[float]:
        return [iso_timestamp(json.loads(raw)["date_done"])
                for raw in self._metas([h.id for h in handles])]

    def roundtrip(self, i: int) -> Any:
        return self.task.delay(i).get(timeout=30)


class TasksCore(System):
    label = "tasks-core"
    key = "tc"
    queue_key = TC_POOL

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        import tasks_core
        from bench import _tc_tasks as mod
        from tasks_core.process_runtime import get_runtime

        self.task = mod.noop
        self.tc = tasks_core
        self.rt = get_runtime()
        settings = self.rt.settings
        if settings.redis_url != self.env["TASKS_CORE_REDIS_URL"] or settings.key_prefix != \
                self.env["TASKS_CORE_KEY_PREFIX"]:
            raise BenchError("tasks_core settings were read before the bench set them")
        if not self.rt.dispatcher.direct:
            raise BenchError("tasks-core is not pushing messages directly (broker != Redis)")
        # its broker keys carry the stack's prefix (kombu's global_keyprefix), pub/sub
        # channels too: remote control goes through an app with the same prefix
        self.control = self.rt.app.control

    def worker_argv(self) -> list[str]:
        exe = find_executable("tasks-core")
        head = [exe] if exe else [sys.executable, "-c",
                                  "from tasks_core.cli.main import app; app()"]
        return [*head, "worker", "--pool", TC_POOL, "-c", str(self.args.concurrency),
                "--pool-impl", "prefork", "-i", "bench._tc_tasks", "--loglevel", "WARNING",
                "--hostname", self.node]

    def queue_length(self) -> int:
        return self.rt.queues.depth(TC_POOL)  # its lists are <prefix>:q:<pool>[...]

    def send(self, i: int) -> Any:
        return self.task.delay(i)

    def wait_done(self, handles: list[Any], timeout: float) -> None:
        states = self.tc.wait_all(handles, timeout=timeout)
        bad = [s for s in states if s != self.tc.StateName.COMPLETED]
        if bad:
            raise BenchError(f"tasks-core: {len(bad)} runs did not complete (e.g. {bad[0]})")

    def completion_times(self, handles: list[Any]) -> list[float]:
        store = self.rt.store
        values: list[Any] = []
        for part in chunks([h.id for h in handles], 1000):
            with store.client.pipeline(transaction=False) as pipe:
                for run_id in part:
                    pipe.hget(store.keys.run(run_id), "end_time")
                values.extend(pipe.execute())
        return [iso_timestamp(v) for v in values]

    def roundtrip(self, i: int) -> Any:
        return self.task.delay(i).result(timeout=30)

    def breakdown(self, handle: Any) -> dict[str, float]:
        """MEMORY USAGE of one run's keys, and its share of the event stream and of the two
        indexes every run is in (per entry: the key's usage / its length; 3 events a run)."""
        keys, client = self.rt.store.keys, self.client
        run_id = handle.id

        def usage(key: str) -> float:
            return float(client.memory_usage(key, samples=0) or 0)

        events = client.xlen(keys.events) or 1
        by_time, completed = keys.runs("task"), keys.state_index("task", "Completed")
        return {"record (hash)": usage(keys.run(run_id)),
                "history (list)": usage(keys.history(run_id)),
                "result": usage(keys.result(run_id)),
                "3 run events": 3 * usage(keys.events) / events,
                "2 index entries": usage(by_time) / (client.zcard(by_time) or 1)
                + usage(completed) / (client.zcard(completed) or 1)}

    def warm_up(self) -> None:
        super().warm_up()
        self.wait_done(self.task.map(range(WARMUP_MAP)), timeout=120)


# -- measurements --------------------------------------------------------------------------


def timed(label: str, fn: Callable[[], Any]) -> Any:
    print(f"  {label} ...", end="", flush=True)
    start = time.perf_counter()
    value = fn()
    print(f" {time.perf_counter() - start:.2f}s", flush=True)
    return value


def enqueue(system: System, n: int, on_start: Callable[[], None] | None = None
            ) -> tuple[list[Any], float]:
    """Pause the worker's consumer, then time N `.delay()` calls; (handles, seconds).
    `on_start` is called just before the first call."""
    system.pause()
    if system.queue_length() != 0:
        raise BenchError(f"{system.label}: queue not empty before enqueuing")
    if on_start is not None:
        on_start()
    print(f"  enqueue {n} ...", end="", flush=True)
    start = time.perf_counter()
    handles = [system.send(i) for i in range(n)]
    seconds = time.perf_counter() - start
    print(f" {seconds:.2f}s", flush=True)
    queued = system.queue_length()
    if queued != n:
        raise BenchError(f"{system.label}: {queued} of {n} messages on the queue before resuming "
                         "(the paused worker consumed some, or messages are missing)")
    return handles, seconds


def drain(system: System, handles: list[Any], *, passive: bool) -> tuple[float, float]:
    """Resume the consumer and wait for every task; (t0, time the waiter saw the end)."""
    n = len(handles)
    timeout = max(120.0, n / 20)
    print(f"  drain {n}{' (passive waiter)' if passive else ''} ...", end="", flush=True)
    t0 = time.time()
    system.resume()
    if passive:  # O(1) polls until the queue is empty, then the per-task check
        deadline = time.monotonic() + timeout
        while system.queue_length() > 0:
            if time.monotonic() > deadline:
                raise BenchError(f"{system.label}: queue not drained after {timeout}s")
            system.check_worker()
            time.sleep(POLL_S)
    system.wait_done(handles, timeout=timeout)
    observed = time.time()
    print(f" {observed - t0:.2f}s", flush=True)
    if system.queue_length() != 0:
        raise BenchError(f"{system.label}: queue not empty after all tasks completed")
    return t0, observed


def measure(system: System, args: argparse.Namespace, probe: RedisProbe) -> dict[str, Any]:
    n, out = args.n, {}
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
    handles, out["enqueue2_s"] = enqueue(system, n, on_start=lambda: cpu.append(
        probe.cpu_seconds()))
    t0, observed = drain(system, handles, passive=True)
    out["redis_cpu_s_per_10k"] = (probe.cpu_seconds() - cpu[0]) / n * 10_000
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
    row(f"round-trip p50 (ms, M={args.latency_samples})", "roundtrip_p50_ms", "roundtrip_p50")
    row("round-trip p99 (ms)", "roundtrip_p99_ms")
    row("round-trip mean (ms)", "roundtrip_mean_ms")
    row(f".map() runs/s (tasks-core, {args.map_n:,} inputs)", "map_runs_per_s",
        "map_runs_per_s")
    head = ("metric", "plain Celery", "tasks-core", "ratio", "target", "result")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = []
    for i, r in enumerate([head, *rows]):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:4], widths[1:4],
                                                                          strict=True)]
        cells += [r[4].ljust(widths[4]), r[5]]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("-" * len(lines[0]))
    lines.append(f"ratio = tasks-core / plain Celery (latency: ratio of p50); "
                 f"concurrency {args.concurrency}, prefork, both; Celery task events "
                 f"{'on (-E), both' if args.task_events else 'off, both'}; plain "
                 f"Celery acks {'late' if args.plain_acks_late else 'early (its default)'}, "
                 "tasks-core late.")
    summary = {name: {"ratio": c[0], "target": c[1], "pass": c[2]} for name, c in checks.items()}
    return "\n".join(lines), summary


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
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--redis-server", default=None,
                        help="redis-server binary (default: /usr/bin/redis-server if present)")
    args = parser.parse_args(argv)
    for name in ("n", "latency_samples", "map_n", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_signal_exit()
    procs = Processes()
    try:
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
        results: dict[str, dict[str, Any]] = {}
        for cls in (PlainCelery, TasksCore):
            system = cls(args, procs, env, client, control_app)
            try:
                results[system.key] = measure(system, args,
                                              RedisProbe(client, redis_proc.proc.pid))
            finally:
                system.stop_worker()
        table, summary = build_report(results["plain"], results["tc"], args)
        print()
        print(table)
        for key, label in (("plain", "plain Celery"), ("tc", "tasks-core")):
            parts = results[key]["redis_bytes_breakdown"]
            print(f"one finished {label} run, MEMORY USAGE by part (bytes; key-table entries "
                  "not included): " + ", ".join(f"{k} {v:,.0f}" for k, v in parts.items()))
        if args.json:
            payload = {
                "config": {"n": args.n, "latency_samples": args.latency_samples,
                           "map_n": args.map_n, "concurrency": args.concurrency,
                           "pool": "prefork", "redis": info["redis_version"],
                           "python": platform.python_version(), "cpus": os.cpu_count(),
                           "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
                "plain_celery": results["plain"],
                "tasks_core": results["tc"],
                "targets": summary,
                "table": table,
            }
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(payload, indent=2) + "\n")
            print(f"results written to {args.json}")
        return 0
    except BenchError as exc:
        print(f"\nbench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    except SystemExit:
        print("\nterminated by a signal; cleaning up", file=sys.stderr)
        raise
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
