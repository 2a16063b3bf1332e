"""The report of `bench/bulk.py`: its table of dramatiq against tasks-core and the bulk
target's verdict."""

from __future__ import annotations

import argparse
from typing import Any

from bench._common import target_table

__all__ = ["TARGET", "build_report"]

TARGET = 1.5  # tasks-core bulk runs/s >= 1.5x dramatiq's drain


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def build_report(dq: dict[int, dict[str, Any]], tc: dict[str, Any],
                 args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    best_threads = max(dq, key=lambda t: dq[t]["drain_runs_per_s"])
    best = dq[best_threads]["drain_runs_per_s"]
    ratio = tc["map_runs_per_s"] / best
    passed = ratio >= TARGET
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(metric: str, d: float | None, t: float | None, target: str = "",
            verdict: str = "") -> None:
        r = f"{t / d:.2f}x" if d and t else "-"
        rows.append((metric, fmt(d), fmt(t), r, target, verdict))

    c = args.concurrency
    row(f"bulk runs/s, N={args.n:,}: dramatiq drain ({c}x{best_threads}, fastest) vs "
        ".map() to wait_all", best, tc["map_runs_per_s"], f">= {TARGET}x dramatiq",
        "PASS" if passed else "MISS")
    for threads, d in sorted(dq.items()):
        if threads != best_threads:
            row(f"  same, dramatiq {c}x{threads} (info)", d["drain_runs_per_s"],
                tc["map_runs_per_s"])
    for threads, d in sorted(dq.items()):
        row(f"send time (s): dramatiq {c}x{threads} .send() loop vs .map() call",
            d["send_s"], tc["map_call_s"])
    if "paused_drain_runs_per_s" in tc:
        for threads, d in sorted(dq.items()):
            row(f"pure drain runs/s, queued first: dramatiq {c}x{threads} vs paused .map() "
                "(info)", d["drain_runs_per_s"], tc["paused_drain_runs_per_s"])
        for threads, d in sorted(dq.items()):
            row(f"  worker CPU s per 10,000 runs in that drain: dramatiq {c}x{threads}",
                d["drain_worker_cpu_s_per_10k"], tc["drain_worker_cpu_s_per_10k"])
        for threads, d in sorted(dq.items()):
            row(f"  redis-server CPU s per 10,000 runs in it: dramatiq {c}x{threads}",
                d["drain_redis_cpu_s_per_10k"], tc["drain_redis_cpu_s_per_10k"])
    for threads, d in sorted(dq.items()):
        row(f"end to end runs/s, warm worker: dramatiq {c}x{threads} (info)",
            d["e2e_runs_per_s"], tc["map_runs_per_s"])
    head = ("metric", "dramatiq", "tasks-core", "ratio", "target", "result")
    lines = target_table(head, rows)
    lines.append(f"ratio = tasks-core / dramatiq; dramatiq PxT = --processes P --threads T; "
                 f"tasks-core prefork -c {c}; map_chunk_size {tc['map_chunk_size']}; dramatiq "
                 f"result backend {'on (Results, Redis)' if args.dramatiq_results else 'off'}.")
    summary = {"ratio": ratio, "target": f">= {TARGET}x", "pass": passed,
               "dramatiq_threads": best_threads}
    return "\n".join(lines), summary
