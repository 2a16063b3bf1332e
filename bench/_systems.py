"""The two systems bench/tasks_alone.py and bench/scaling.py measure side by side, and the
steps both take with them: plain Celery (`PlainCelery`: its Redis result backend, the
queue ``bench_plain``) and tasks-core (`TasksCore`: every setting at its default, the pool
``bench_tc``), each with its worker, how it sends, waits for and times its tasks, and
`enqueue` / `drain` (the worker's consumer paused while sending, resumed to drain).
bench/tasks_alone.py's docstring says what is timed.
"""

from __future__ import annotations

import argparse
import json
import secrets
import socket
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import redis

from bench._common import (
    BenchError,
    Managed,
    Processes,
    chunks,
    find_executable,
    iso_timestamp,
)

PLAIN_QUEUE = "bench_plain"
TC_POOL = "bench_tc"
WARMUP_TASKS = 200
WARMUP_ROUNDTRIPS = 20
WARMUP_MAP = 200
PAUSE_SETTLE_S = 1.5  # > kombu's 1 s BRPOP timeout: no fetch in flight on a paused queue
POLL_S = 0.02  # both waiters poll every 20 ms (wait_all's default)


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
        """Poll like wait_all: MGET of the oldest results still missing, as many as
        tasks-core's `wait_all` would read, by the same loop (`poll_oldest`: 16 to 256, at
        once while all read were there, else after 20 ms, 50 ms while none came)."""
        from tasks_core.poll_window import poll_oldest

        def ended(head: list[str]) -> list[bool]:
            self.check_worker()
            done = []
            for task_id, raw in zip(head, self._metas(head), strict=True):
                if raw is not None and json.loads(raw)["status"] != "SUCCESS":
                    raise BenchError(f"plain Celery task {task_id} ended "
                                     f"{json.loads(raw)['status']}")
                done.append(raw is not None)
            return done

        left = poll_oldest([h.id for h in handles], ended,
                           deadline=time.monotonic() + timeout, pause_s=POLL_S)
        if left:
            raise BenchError(f"plain Celery: {len(left)} of {len(handles)} tasks not done "
                             f"after {timeout}s")

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
        """MEMORY USAGE of one run's keys (the record holds its history and a short
        result), and its share of the event stream and of the two indexes every run is in
        (per entry: the key's usage / its length; 3 events a run)."""
        keys, client = self.rt.store.keys, self.client
        run_id = handle.id

        def usage(key: str) -> float:
            return float(client.memory_usage(key, samples=0) or 0)

        events = client.xlen(keys.events) or 1
        by_time, completed = keys.runs("task"), keys.state_index("task", "Completed")
        return {"record (hash, with its history and a short result)": usage(keys.run(run_id)),
                "result key (a long result)": usage(keys.result(run_id)),
                "3 run events": 3 * usage(keys.events) / events,
                "2 index entries": usage(by_time) / (client.zcard(by_time) or 1)
                + usage(completed) / (client.zcard(completed) or 1)}

    def warm_up(self) -> None:
        super().warm_up()
        self.wait_done(self.task.map(range(WARMUP_MAP)), timeout=120)


# -- stepping a system --------------------------------------------------------------



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
