"""Plain Celery vs tasks-core, side by side: what importing costs and what an idle worker
holds in memory (issue 16, footprint).

Run from the repo root::

    .venv/bin/python bench/footprint.py [--repeat 5] [--concurrency 2] [--settle 2] \
        [--json results.json] [--redis-server PATH]

1. Import time. Each statement runs in a fresh interpreter (``sys.executable -c``, this
   repo first on PYTHONPATH, PYTHONDONTWRITEBYTECODE removed so bytecode is cached and
   read as in normal use); the time is ``time.perf_counter()`` around the statement alone,
   inside that interpreter (interpreter start-up excluded). One untimed run per statement
   first warms the bytecode cache, then the median of ``--repeat`` (default 5) runs:
     * ``import celery`` vs ``import tasks_core`` (each package alone: both resolve their
       public names lazily);
     * ``from celery import Celery`` vs ``from tasks_core import task, flow`` (the first
       line of a program: an app class, the decorators);
     * ``import prefect``, when Prefect is installed in this interpreter (otherwise a note
       says it was skipped).
2. Idle worker memory. One run starts its own redis-server (/usr/bin/redis-server unless
   ``--redis-server``) on a free port (``--save "" --appendonly no``), then, one system
   after the other (never both workers at once):
     A. plain Celery: ``celery -A bench._plain_celery_tasks worker -c C -P prefork
        --loglevel WARNING -Q bench_plain`` (the no-op task module of bench/tasks_alone.py);
     B. tasks-core: ``tasks-core worker --pool bench_tc -c C --pool-impl prefork
        -i bench._tc_tasks --loglevel WARNING``, every setting at its default
        (TASKS_CORE_* inherited variables dropped, an empty TOML file, a unique key prefix).
   Each worker is pinged (Celery's remote control) until it answers, left alone
   ``--settle`` seconds (default 2), then its memory is read from /proc for the main
   process and every descendant (the prefork children, C of them): the sum of VmRSS
   (/proc/PID/status: resident pages, shared ones counted in each process, which is what
   ``ps``/``top`` add up) and the sum of Pss (/proc/PID/smaps_rollup: each shared page
   divided among the processes sharing it, the honest total). No task is run: this is
   the worker at rest, with what it imported at start-up. The children are forked from
   the main process, so what it imported is shared copy-on-write: it is counted once per
   process in RSS, split in PSS.

Targets (from the issue): ``import tasks_core`` <= 0.2 s; idle worker RSS <= 1.1x plain
Celery's. Ratios are tasks-core / plain Celery. The machine may be shared: the numbers are
noisy, run it more than once.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    REPO,
    Managed,
    Processes,
    descendants,
    find_executable,
    install_signal_exit,
    prepare_env,
    start_redis,
)

PLAIN_QUEUE = "bench_plain"
TC_POOL = "bench_tc"
TARGETS = {"import_tasks_core_s": 0.2, "idle_rss_ratio": 1.1}

IMPORTS = [  # (label, plain Celery statement, tasks-core statement)
    ("the package alone", "import celery", "import tasks_core"),
    ("the first line of a program", "from celery import Celery",
     "from tasks_core import task, flow"),
]


class BenchError(RuntimeError):
    pass


# -- import time ---------------------------------------------------------------------------


def _import_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("TASKS_CORE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def import_seconds(statement: str, repeat: int) -> float:
    """Median seconds `statement` takes in a fresh interpreter (bytecode warmed first)."""
    probe = ("import time\nt0 = time.perf_counter()\n" + statement +
             "\nprint(repr(time.perf_counter() - t0))")
    env = _import_env()
    times = []
    for i in range(repeat + 1):
        out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise BenchError(f"{statement!r} failed:\n{out.stderr[-2000:]}")
        if i:  # the first run warms the bytecode cache
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


# -- idle worker memory --------------------------------------------------------------------


def _kib(path: str, field: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise BenchError(f"{field} not in {path}")


def memory_mib(root: int) -> dict[str, Any]:
    """RSS and PSS (MiB) of `root` and its descendants, summed, and per process."""
    per = []
    for pid in descendants(root):
        try:
            rss = _kib(f"/proc/{pid}/status", "VmRSS")
            pss = _kib(f"/proc/{pid}/smaps_rollup", "Pss")
        except OSError:  # gone meanwhile
            continue
        per.append({"pid": pid, "rss_mib": rss / 1024, "pss_mib": pss / 1024})
    return {"processes": len(per), "rss_mib": sum(p["rss_mib"] for p in per),
            "pss_mib": sum(p["pss_mib"] for p in per), "per_process": per}


def _wait_ping(worker: Managed, control: Any, node: str, label: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        if worker.proc.poll() is not None:
            raise BenchError(f"{label} worker exited ({worker.proc.returncode}):\n"
                             f"{worker.log_tail()}")
        if control.ping(destination=[node], timeout=0.5):
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{label} worker did not answer a ping in 90 s:\n"
                             f"{worker.log_tail()}")


def idle_worker(procs: Processes, env: dict[str, str], label: str, argv: list[str],
                control: Any, node: str, concurrency: int, settle: float) -> dict[str, Any]:
    """Start a worker, wait for its ping, settle, read its memory, stop it."""
    worker = procs.start(f"worker-{label}", argv, env=env, cwd=procs.workdir)
    try:
        _wait_ping(worker, control, node, label)
        time.sleep(settle)
        mem = memory_mib(worker.proc.pid)
        if mem["processes"] < concurrency + 1:
            raise BenchError(f"{label}: {mem['processes']} processes, expected the main one "
                             f"and {concurrency} children:\n{worker.log_tail()}")
        return mem
    finally:
        procs.stop(worker)


def plain_argv(concurrency: int, node: str) -> list[str]:
    celery = find_executable("celery")
    head = [celery] if celery else [sys.executable, "-m", "celery"]
    return [*head, "-A", "bench._plain_celery_tasks", "worker", "-c", str(concurrency),
            "-P", "prefork", "--loglevel", "WARNING", "-Q", PLAIN_QUEUE, "-n", node]


def tc_argv(concurrency: int, node: str) -> list[str]:
    exe = find_executable("tasks-core")
    head = [exe] if exe else [sys.executable, "-c",
                              "from tasks_core.cli.main import app; app()"]
    return [*head, "worker", "--pool", TC_POOL, "-c", str(concurrency), "--pool-impl",
            "prefork", "-i", "bench._tc_tasks", "--loglevel", "WARNING", "--hostname", node]


# -- report --------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if unit == "s" else f"{value:.1f} MiB"


def report(results: dict[str, Any], concurrency: int) -> str:
    rows: list[tuple[str, ...]] = []
    for item in results["imports"]:
        p, t = item["plain_s"], item["tc_s"]
        rows.append((f"import: {item['label']}", item["plain"], item["tc"],
                     _fmt(p, "s"), _fmt(t, "s"), f"{t / p:.2f}x"))
    prefect = results.get("prefect_s")
    if prefect is not None:
        rows.append(("import: Prefect (for reference)", "", "import prefect", "",
                     _fmt(prefect, "s"), ""))
    plain, tc = results["worker"]["plain"], results["worker"]["tc"]
    for key, what in (("rss_mib", "RSS"), ("pss_mib", "PSS")):
        rows.append((f"idle worker {what}, main + {concurrency} children", "", "",
                     _fmt(plain[key], "m"), _fmt(tc[key], "m"),
                     f"{tc[key] / plain[key]:.2f}x"))
    head = ("metric", "plain Celery", "tasks-core", "plain Celery", "tasks-core", "ratio")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = []
    for i, r in enumerate([head, *rows]):
        lines.append("  ".join(c.ljust(w) if j < 3 else c.rjust(w)
                               for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        if i == 0:
            lines.append("-" * len(lines[0]))
    checks = results["checks"]
    lines.append("")
    for name, check in checks.items():
        lines.append(f"{name}: {check['value']:.3g} (target {check['target']}) "
                     f"{'PASS' if check['pass'] else 'MISS'}")
    if prefect is None:
        lines.append("note: Prefect is not installed in this interpreter: its import skipped")
    lines.append(f"import times: median of {results['repeat']} fresh interpreters, bytecode "
                 "warm; worker memory: prefork, idle after a ping and "
                 f"{results['settle_s']:g} s; ratio = tasks-core / plain Celery.")
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--repeat", type=int, default=5,
                        help="fresh interpreters per import statement (the median is kept)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds an answering worker is left idle before its memory "
                        "is read")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--redis-server", default=None,
                        help="redis-server binary (default: /usr/bin/redis-server if present)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.concurrency < 1 or args.settle < 0:
        parser.error("--repeat and --concurrency must be >= 1, --settle >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_signal_exit()
    results: dict[str, Any] = {"repeat": args.repeat, "settle_s": args.settle,
                               "concurrency": args.concurrency, "cpus": os.cpu_count(),
                               "python": platform.python_version(), "imports": []}
    for label, plain, tc in IMPORTS:
        results["imports"].append({
            "label": label, "plain": plain, "tc": tc,
            "plain_s": import_seconds(plain, args.repeat),
            "tc_s": import_seconds(tc, args.repeat)})
    has_prefect = importlib.util.find_spec("prefect") is not None
    results["prefect_s"] = import_seconds("import prefect", args.repeat) if has_prefect else None

    procs = Processes()
    try:
        redis_proc, url = start_redis(procs, binary=args.redis_server)
        key_prefix = f"bench{os.getpid()}x{secrets.token_hex(4)}"
        env = prepare_env(url, key_prefix, procs.workdir, {"BENCH_REDIS_URL": url})
        print(f"redis on {url} (pid {redis_proc.proc.pid}), key prefix {key_prefix}, "
              f"{os.cpu_count()} CPUs")
        from celery import Celery

        from tasks_core.process_runtime import get_runtime

        plain_control = Celery("bench_control", broker=url, set_as_current=False).control
        tc_control = get_runtime().app.control  # the stack's broker prefix, as its worker
        host = socket.gethostname()
        plain_node = f"plain-{secrets.token_hex(3)}@{host}"
        tc_node = f"tc-{secrets.token_hex(3)}@{host}"
        results["worker"] = {
            "plain": idle_worker(procs, env, "plain", plain_argv(args.concurrency, plain_node),
                                 plain_control, plain_node, args.concurrency, args.settle),
            "tc": idle_worker(procs, env, "tc", tc_argv(args.concurrency, tc_node),
                              tc_control, tc_node, args.concurrency, args.settle),
        }
    finally:
        procs.stop_all()

    package = results["imports"][0]["tc_s"]
    rss = results["worker"]["tc"]["rss_mib"] / results["worker"]["plain"]["rss_mib"]
    results["checks"] = {
        "import tasks_core (s)": {"value": package,
                                  "target": f"<= {TARGETS['import_tasks_core_s']}",
                                  "pass": package <= TARGETS["import_tasks_core_s"]},
        "idle worker RSS ratio": {"value": rss, "target": f"<= {TARGETS['idle_rss_ratio']}x",
                                  "pass": rss <= TARGETS["idle_rss_ratio"]},
    }
    print(report(results, args.concurrency))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
