"""HTTP API read latency: ``GET /api/flow_runs?limit=100`` with 100,000 runs stored, beside a
bare endpoint of the same server.

Run from the repo root::

    .venv/bin/python bench/api.py [--runs 100000] [--requests 500] [--json results.json] \
        [--redis-server PATH]

One run starts its own redis-server (no RDB, no AOF) on a free port, drops inherited
TASKS_CORE_* variables, points TASKS_CORE_CONFIG at an empty TOML file, and:

1. stores ``--runs`` flow runs through the store (`RunStore.create_many`, pipelines of
   1,000 create.lua calls: each run's record, history, indexes and creation event, as a
   real run is written; not by running flows): names ``etl-<i % 20>``, a small parameters
   object, two tags, 90% Completed (with start and end times), 5% Failed, 5% Running;
2. starts one server process (this file with ``--serve PORT``): uvicorn on the app of
   `tasks_core.api.app.create_app()` plus one bare route, ``GET /bench/bare``, that returns
   204 and reads nothing: what FastAPI and uvicorn cost alone on the same server;
3. from this process, one keep-alive HTTP client, sequential requests, alternating the two
   endpoints after a warm-up (so both see the same noise): ``--requests`` of each. Latency
   per request, client side, p50 / p99 in ms; the ratio to the bare endpoint's.

Target: the listing's p50 < 20 ms. Percentiles use linear interpolation. The machine may be
shared: numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
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

LISTING = "/api/flow_runs?limit=100"
BARE = "/bench/bare"
CHUNK = 1000
TARGET_P50_MS = 20.0


def serve(port: int) -> None:
    """The server process: create_app() plus the bare route, on uvicorn (as `serve.serve`)."""
    import uvicorn
    from fastapi import Response

    from tasks_core.api.app import create_app

    app = create_app()

    @app.get(BARE, status_code=204, response_model=None, include_in_schema=False)
    def bare() -> Response:
        return Response(status_code=204)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                server_header=False)


def _record(i: int, at: datetime) -> Any:
    from tasks_core.records import RunRecord
    from tasks_core.states import StateName, state_type

    state = (StateName.FAILED if i % 20 == 7 else StateName.RUNNING if i % 20 == 13
             else StateName.COMPLETED)
    ended = at + timedelta(seconds=2) if state != StateName.RUNNING else None
    return RunRecord(id=str(uuid.uuid4()), kind="flow", name=f"etl-{i % 20}",
                     parameters={"day": at.date().isoformat(), "n": i}, state=state,
                     state_type=state_type(state), created=at, start_time=at,
                     end_time=ended, tags=["bench", f"batch-{i % 7}"], queue="bench-pool",
                     attempt=1, flow_run_name=f"bench-run-{i}")


def store_runs(n: int) -> float:
    """Write `n` flow runs through the store, oldest first; seconds taken."""
    from tasks_core.process_runtime import get_runtime

    store = get_runtime().store
    start = datetime.now(UTC) - timedelta(seconds=n)
    began = time.perf_counter()
    for first in range(0, n, CHUNK):
        batch = [(_record(i, start + timedelta(seconds=i)), None)
                 for i in range(first, min(first + CHUNK, n))]
        store.create_many(batch)
    return time.perf_counter() - began


def measure(base: str, requests: int) -> dict[str, list[float]]:
    """Latencies (ms) of each endpoint, alternating, after a warm-up of 30 each."""
    import httpx

    times: dict[str, list[float]] = {LISTING: [], BARE: []}
    with httpx.Client(base_url=base, timeout=30) as client:
        for round_ in range(30 + requests):
            for path in (LISTING, BARE):
                began = time.perf_counter()
                reply = client.get(path)
                took = (time.perf_counter() - began) * 1000
                if reply.status_code not in (200, 204):
                    raise RuntimeError(f"GET {path}: {reply.status_code} {reply.text[:300]}")
                if path == LISTING and len(reply.json()["items"]) != 100:
                    raise RuntimeError("the listing did not return 100 runs")
                if round_ >= 30:
                    times[path].append(took)
    return {path: sorted(values) for path, values in times.items()}



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=100_000, help="flow runs stored")
    parser.add_argument("--requests", type=int, default=500, help="requests per endpoint")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--redis-server", default=None, help="redis-server binary")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:  # the server process this bench starts
        serve(args.serve)
        return 0
    install_signal_exit()
    procs = Processes()
    try:
        _, url = start_redis(procs, binary=args.redis_server)
        env = prepare_env(url, "bench-api", procs.workdir)
        took = store_runs(args.runs)
        print(f"stored {args.runs:,} flow runs in {took:.1f} s")
        base = start_api_server(procs, Path(__file__).resolve(), env)
        times = measure(base, args.requests)
        rows = {path: (percentile(values, 50), percentile(values, 99))
                for path, values in times.items()}
        results: dict[str, Any] = {
            "runs": args.runs, "requests": args.requests,
            "listing_p50_ms": rows[LISTING][0], "listing_p99_ms": rows[LISTING][1],
            "bare_p50_ms": rows[BARE][0], "bare_p99_ms": rows[BARE][1]}
        print()
        print(f"{'endpoint':<44}{'p50 ms':>9}{'p99 ms':>9}  {'vs bare':>8}  target")
        print("-" * 84)
        for path, label, target in ((LISTING, f"GET {LISTING} ({args.runs:,} runs)",
                                     f"p50 < {TARGET_P50_MS:g} ms"),
                                    (BARE, f"GET {BARE} (204, reads nothing)", "")):
            p50, p99 = rows[path]
            ratio = p50 / rows[BARE][0]
            print(f"{label:<44}{p50:>9.2f}{p99:>9.2f}  {ratio:>7.1f}x  {target}")
        met = rows[LISTING][0] < TARGET_P50_MS
        print(f"\nlisting p50 target ({TARGET_P50_MS:g} ms): {'met' if met else 'MISSED'}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
