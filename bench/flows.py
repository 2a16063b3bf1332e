"""Flow overhead: per task run and per nested flow run, against plain function calls.

Starts its own redis-server (no persistence) and measures, with all state tracking on:
  1. a flow calling a trivial task 1,000 times sequentially,
  2. the same with `task.submit()` on the default thread-pool runner (futures resolved),
  3. a flow calling a trivial nested flow 100 times.
Each is repeated --repeats times; the median per-call overhead (tracked minus the same
loop over the plain function) is printed in milliseconds, with the issue's targets
(< 0.5 ms per task run, < 2 ms per nested flow run). The timing includes the wait for the
reporter to write every state (`reporter.flush()`), so no work is left unmeasured.

    .venv/bin/python bench/flows.py [--tasks 1000] [--subflows 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import free_port  # noqa: E402


def wait_for_redis(port: int, timeout: float = 10.0) -> None:
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _median_ms(fn: Callable[[], None], repeats: int, count: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) / count * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--subflows", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found (make test installs it)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="tc-bench-flows-")
    redis_proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    try:
        wait_for_redis(port)
        for key in [k for k in os.environ if k.startswith("TASKS_CORE_")]:
            del os.environ[key]
        os.environ["TASKS_CORE_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        os.environ["TASKS_CORE_KEY_PREFIX"] = f"bf{uuid.uuid4().hex[:6]}"
        os.environ["TASKS_CORE_CONFIG"] = os.devnull
        return _run(args)
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace) -> int:
    from tasks_core import flow, task
    from tasks_core.process_runtime import get_runtime

    def plain(x: int) -> int:
        return x + 1

    tracked = task(plain)

    @flow
    def inner(x: int) -> int:
        return x + 1

    n, m = args.tasks, args.subflows
    reporter = get_runtime().reporter

    @flow
    def sequential() -> None:
        for i in range(n):
            tracked(i)

    @flow
    def submitted() -> None:
        futures = [tracked.submit(i) for i in range(n)]
        for future in futures:
            future.result()

    @flow
    def nested() -> None:
        for i in range(m):
            inner(i)

    def plain_loop() -> None:
        for i in range(n):
            plain(i)

    def run_and_flush(fn: Callable[[], None]) -> Callable[[], None]:
        def go() -> None:
            fn()
            reporter.flush(timeout=120)
        return go

    run_and_flush(sequential)()  # warm up: connections, scripts, thread pool
    base = _median_ms(plain_loop, args.repeats, n)
    rows = [
        (f"task run, sequential ({n} per flow)", _median_ms(run_and_flush(sequential),
                                                          args.repeats, n) - base, 0.5),
        (f"task run, submit() ({n} per flow)", _median_ms(run_and_flush(submitted),
                                                        args.repeats, n) - base, 0.5),
        (f"nested flow run ({m} per flow)", _median_ms(run_and_flush(nested),
                                                     args.repeats, m) - base, 2.0),
    ]
    print(f"{'overhead per call (median of ' + str(args.repeats) + ')':<44}{'ms':>8}"
          f"{'target':>10}  result")
    print("-" * 72)
    for label, value, target in rows:
        print(f"{label:<44}{value:>8.3f}{'< ' + str(target):>10}  "
              f"{'PASS' if value < target else 'MISS'}")
    print(f"plain function call: {base * 1000:.2f} us; all state tracking on, writes flushed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
