"""Dashboard render time: ``GET /flow-runs`` (a page of 100 flow runs, server-rendered HTML)
with 100,000 runs stored, beside the JSON listing of the same page.

Run from the repo root::

    .venv/bin/python bench/dashboard.py [--runs 100000] [--requests 300] [--json out.json] \
        [--redis-server PATH]

One run starts its own redis-server (no RDB, no AOF) on a free port, drops inherited
TASKS_CORE_* variables, points TASKS_CORE_CONFIG at an empty TOML file, and:

1. stores ``--runs`` flow runs through the store in pipelines (`bench.api.store_runs`: each
   run's record, history, indexes and creation event, as a real run is written);
2. starts one server process (`bench/api.py --serve PORT`: uvicorn on
   `tasks_core.api.app.create_app()`, which mounts the dashboard; no API key);
3. from this process, one keep-alive HTTP client, sequential requests, alternating
   ``GET /flow-runs`` (the page: 100 rows, counts per state) and
   ``GET /api/flow_runs?limit=100`` after a warm-up of 20 each: ``--requests`` of each.
   Latency per request, client side (so it includes HTTP and the client), p50 / p99 in ms.

Target (issue 13, item 3): the page in under 100 ms on the server. Percentiles use linear
interpolation. The machine may be shared: numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench._common import (  # noqa: E402
    Processes,
    install_signal_exit,
    percentile,
    prepare_env,
    start_api_server,
    start_redis,
)
from bench.api import store_runs  # noqa: E402

PAGE = "/flow-runs"
LISTING = "/api/flow_runs?limit=100"
TARGET_MS = 100.0
WARM_UP = 20


def measure(base: str, requests: int) -> dict[str, list[float]]:
    """Latencies (ms) of each path, alternating, after a warm-up; each reply checked."""
    import httpx

    times: dict[str, list[float]] = {PAGE: [], LISTING: []}
    with httpx.Client(base_url=base, timeout=30) as client:
        for round_ in range(WARM_UP + requests):
            for path in (PAGE, LISTING):
                began = time.perf_counter()
                reply = client.get(path)
                took = (time.perf_counter() - began) * 1000
                if reply.status_code != 200:
                    raise RuntimeError(f"GET {path}: {reply.status_code} {reply.text[:300]}")
                if path == PAGE and reply.text.count("<tr data-run-id=") != 100:
                    raise RuntimeError("the page did not show 100 runs")
                if round_ >= WARM_UP:
                    times[path].append(took)
    return {path: sorted(values) for path, values in times.items()}



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=100_000, help="flow runs stored")
    parser.add_argument("--requests", type=int, default=300, help="requests per path")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--redis-server", default=None, help="redis-server binary")
    args = parser.parse_args(argv)
    install_signal_exit()
    procs = Processes()
    try:
        _, url = start_redis(procs, binary=args.redis_server)
        env = prepare_env(url, "bench-dash", procs.workdir)
        took = store_runs(args.runs)
        print(f"stored {args.runs:,} flow runs in {took:.1f} s")
        base = start_api_server(procs, REPO / "bench" / "api.py", env)
        times = measure(base, args.requests)
        rows = {path: (percentile(values, 50), percentile(values, 99))
                for path, values in times.items()}
        results: dict[str, Any] = {
            "runs": args.runs, "requests": args.requests,
            "page_p50_ms": rows[PAGE][0], "page_p99_ms": rows[PAGE][1],
            "listing_p50_ms": rows[LISTING][0], "listing_p99_ms": rows[LISTING][1]}
        print()
        print(f"{'request':<46}{'p50 ms':>9}{'p99 ms':>9}  target")
        print("-" * 78)
        for path, label, target in (
                (PAGE, f"GET {PAGE} (HTML, {args.runs:,} runs)", f"< {TARGET_MS:g} ms"),
                (LISTING, f"GET {LISTING} (JSON)", "")):
            p50, p99 = rows[path]
            print(f"{label:<46}{p50:>9.2f}{p99:>9.2f}  {target}")
        met = rows[PAGE][1] < TARGET_MS
        print(f"\npage target ({TARGET_MS:g} ms, at p99): {'met' if met else 'MISSED'}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
