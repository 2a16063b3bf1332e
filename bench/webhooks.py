"""Webhook ingest beside a bare endpoint of the same server, and the API's read latency.

Run from the repo root::

    .venv/bin/python bench/webhooks.py [--seconds 10] [--concurrency 8] [--latency 500] \
        [--runs 100000] [--json results.json] [--redis-server PATH]

One run starts its own redis-server (no RDB, no AOF) on a free port, drops inherited
TASKS_CORE_* variables (the webhook rate limit is switched off: ``webhook_rate_limit=0``),
and one server process (this file with ``--serve PORT``): uvicorn on
`tasks_core.api.app.create_app()` plus one bare route, ``POST /bench/bare``, that answers 204
and reads and writes nothing (what FastAPI and uvicorn cost alone). Then:

1. **Ingest throughput**: a webhook (bearer auth, a template that renders a small event from
   the JSON body) and the bare route, each driven by ``--concurrency`` concurrent requests
   from one asyncio client in this process for ``--seconds``, in alternating halves (bare,
   hook, bare, hook) so both see the same noise; requests/s of each, and the ratio
   (target: ingest >= 0.5x the bare endpoint's rate). Every hook reply must be 202.
2. **Request -> event on the stream**: ``--latency`` sequential webhook requests while a
   thread in this process follows the stream (XREAD BLOCK); per request, the time from
   just before sending to the moment the follower reads its event; p50 / p99 ms.
3. **API read latency** (skipped with ``--runs 0``): ``--runs`` flow runs stored through
   the store (as bench/api.py does), then ``GET /api/flow_runs?limit=100`` p50 / p99
   (target p50 < 20 ms), beside ``GET /api/health``.

The client and the server share the machine's two cores: the figures are of one machine,
in one run, noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
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

BARE = "/bench/bare"
TARGET_RATIO = 0.5
TEMPLATE = json.dumps({
    "event": "bench.order.{{ body.status }}",
    "resource": {"tasks-core.resource.id": "bench.order.{{ body.order }}"},
    "payload": {"order": "{{ body.order }}", "amount": "{{ body.amount }}"},
})


def serve(port: int) -> None:
    """The server process: create_app() plus the bare route, on uvicorn."""
    import uvicorn
    from fastapi import Response

    from tasks_core.api.app import create_app

    app = create_app()

    @app.post(BARE, status_code=204, response_model=None, include_in_schema=False)
    def bare() -> Response:
        return Response(status_code=204)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                server_header=False)


async def _drive(url: str, headers: dict[str, str], seconds: float, concurrency: int,
                 expect: int) -> int:
    """Requests answered with `expect` by `concurrency` loops within `seconds`."""
    import httpx

    done = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        async def loop(worker: int) -> None:
            nonlocal done
            i = 0
            while time.perf_counter() < stop_at:
                body = {"order": worker * 1_000_000 + i, "status": "shipped", "amount": 12.5}
                reply = await client.post(url, json=body, headers=headers)
                if reply.status_code != expect:
                    raise RuntimeError(f"POST {url}: {reply.status_code} {reply.text[:300]}")
                done += 1
                i += 1
        await asyncio.gather(*(loop(w) for w in range(concurrency)))
    return done


def throughput(base: str, hook: str, secret: str, seconds: float,
               concurrency: int) -> tuple[float, float]:
    """(bare requests/s, webhook requests/s), alternating halves after a warm-up."""
    auth = {"Authorization": f"Bearer {secret}"}
    asyncio.run(_drive(base + BARE, {}, 1.0, concurrency, 204))  # warm-up
    asyncio.run(_drive(hook, auth, 1.0, concurrency, 202))
    counts = {"bare": 0, "hook": 0}
    half = seconds / 2
    for _ in range(2):
        counts["bare"] += asyncio.run(_drive(base + BARE, {}, half, concurrency, 204))
        counts["hook"] += asyncio.run(_drive(hook, auth, half, concurrency, 202))
    return counts["bare"] / seconds, counts["hook"] / seconds


def stream_latency(hook: str, secret: str, requests: int) -> list[float]:
    """Sorted ms from just before each request to its event read off the stream."""
    import httpx

    from tasks_core.process_runtime import get_runtime

    events = get_runtime().events
    arrived: dict[str, float] = {}
    stop = threading.Event()
    start_id = events.last_id()

    def follow() -> None:
        last = start_id
        while not stop.is_set():
            for entry_id, text in events.after(last, block_ms=200):
                last = entry_id
                arrived[json.loads(text)["id"]] = time.perf_counter()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    sent: dict[str, float] = {}
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {secret}"}) as client:
        for i in range(requests):
            began = time.perf_counter()
            reply = client.post(hook, json={"order": i, "status": "paid", "amount": 1})
            if reply.status_code != 202:
                raise RuntimeError(f"POST {hook}: {reply.status_code} {reply.text[:300]}")
            sent[reply.json()["id"]] = began
    deadline = time.monotonic() + 10
    while len(arrived.keys() & sent.keys()) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    follower.join(5)
    missing = len(sent) - len(arrived.keys() & sent.keys())
    if missing:
        raise RuntimeError(f"{missing} webhook events never reached the stream")
    return sorted((arrived[event_id] - began) * 1000 for event_id, began in sent.items())



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=10.0, help="ingest time in all")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent requests")
    parser.add_argument("--latency", type=int, default=500, help="sequential requests timed")
    parser.add_argument("--runs", type=int, default=100_000,
                        help="flow runs stored for the read latency (0: skip it)")
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
        env = prepare_env(url, "bench-hooks", procs.workdir,
                          extra={"TASKS_CORE_WEBHOOK_RATE_LIMIT": "0"})
        from tasks_core.webhooks import WebhookSpec, create_webhook

        webhook, secret = create_webhook(WebhookSpec(name="bench", template=TEMPLATE,
                                                     methods=["POST"]))
        base = start_api_server(procs, Path(__file__).resolve(), env)
        hook = f"{base}/hooks/{webhook.slug}"
        bare_rate, hook_rate = throughput(base, hook, secret, args.seconds, args.concurrency)
        latencies = stream_latency(hook, secret, args.latency)
        results: dict[str, Any] = {
            "concurrency": args.concurrency, "seconds": args.seconds,
            "bare_requests_per_s": bare_rate, "webhook_requests_per_s": hook_rate,
            "ratio": hook_rate / bare_rate,
            "request_to_stream_p50_ms": percentile(latencies, 50),
            "request_to_stream_p99_ms": percentile(latencies, 99)}
        print()
        print(f"ingest, {args.concurrency} concurrent requests, {args.seconds:g} s in all")
        print(f"  bare POST {BARE} (204, reads nothing)  {bare_rate:>9,.0f} req/s")
        print(f"  POST /hooks/<slug> (bearer, template)  {hook_rate:>9,.0f} req/s  "
              f"{hook_rate / bare_rate:.2f}x bare  (target >= {TARGET_RATIO:g}x: "
              f"{'met' if hook_rate / bare_rate >= TARGET_RATIO else 'MISSED'})")
        print(f"request -> event on the stream, {args.latency} sequential requests: "
              f"p50 {results['request_to_stream_p50_ms']:.2f} ms, "
              f"p99 {results['request_to_stream_p99_ms']:.2f} ms")
        if args.runs:
            from bench.api import LISTING, TARGET_P50_MS, store_runs

            took = store_runs(args.runs)
            print(f"\nstored {args.runs:,} flow runs in {took:.1f} s")
            reads = _read_latency(base, args.latency)
            results.update({"runs": args.runs, "listing_p50_ms": reads[0],
                            "listing_p99_ms": reads[1]})
            print(f"GET {LISTING} ({args.runs:,} runs): p50 {reads[0]:.2f} ms, "
                  f"p99 {reads[1]:.2f} ms (target p50 < {TARGET_P50_MS:g} ms: "
                  f"{'met' if reads[0] < TARGET_P50_MS else 'MISSED'})")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    finally:
        procs.stop_all()


def _read_latency(base: str, requests: int) -> tuple[float, float]:
    """p50 and p99 ms of the flow-run listing, after a warm-up of 30."""
    import httpx

    from bench.api import LISTING

    times: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for round_ in range(30 + requests):
            began = time.perf_counter()
            reply = client.get(LISTING)
            took = (time.perf_counter() - began) * 1000
            if reply.status_code != 200 or len(reply.json()["items"]) != 100:
                raise RuntimeError(f"GET {LISTING}: {reply.status_code} {reply.text[:300]}")
            if round_ >= 30:
                times.append(took)
    times.sort()
    return percentile(times, 50), percentile(times, 99)


if __name__ == "__main__":
    sys.exit(main())
