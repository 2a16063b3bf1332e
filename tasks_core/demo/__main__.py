"""Run the demo: embedded Redis, a worker, tasks alone in action, then a table of the runs."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 130)


def _section(title: str) -> None:
    console.rule(f"[bold cyan]{title}")


def _cli() -> str:
    """How to call this install's `tasks-core` from the current folder: the bare name when
    PATH finds this very script, else its path (`.venv/bin/tasks-core` after `make demo`)."""
    here = os.path.join(os.path.dirname(sys.executable), "tasks-core")
    found = shutil.which("tasks-core")
    if found and os.path.realpath(found) == os.path.realpath(here):
        return "tasks-core"
    relative = os.path.relpath(here)
    return relative if not relative.startswith("..") else here


def hints(prefix: str, task_run: str, flow_run: str) -> list[str]:
    """Commands to explore what the demo left behind, each runnable as printed from the folder
    the demo ran in: they carry the demo's key prefix and the path of `tasks-core`."""
    run = f"TASKS_CORE_KEY_PREFIX={shlex.quote(prefix)} {_cli()}"
    return [f"{run} task-run ls", f"{run} task-run inspect {task_run}",
            f"{run} flow-run ls --flow nightly", f"{run} flow-run inspect {flow_run}",
            f"{run} flow-run logs {flow_run} --tree", f"{run} deployment ls",
            f"{run} work-pool ls", f"{run} events ls --event 'demo.*'",
            f"{run} automation ls", f"{run} webhook ls"]


_beat: list[subprocess.Popen[bytes]] = []


def _start_worker() -> subprocess.Popen[bytes]:
    """A worker, and a beat for countdowns and schedules (stopped with it)."""
    from tasks_core.process_runtime import get_runtime

    cmd = [sys.executable, "-m", "tasks_core.cli.main", "worker", "--pool", "default",
           "--concurrency", "2", "--import", "tasks_core.demo.tasks", "--loglevel", "WARNING"]
    proc = subprocess.Popen(cmd, env=os.environ.copy(), start_new_session=True)
    _beat.append(subprocess.Popen(
        [sys.executable, "-m", "tasks_core.cli.main", "beat", "--loglevel", "WARNING"],
        env=os.environ.copy(), start_new_session=True))
    procs = get_runtime().procs
    deadline = time.monotonic() + 60
    while procs.count() < 2:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the demo worker did not start; see its output above")
        time.sleep(0.1)
    return proc


def _runs_table(run_ids: list[str]) -> Table:
    from tasks_core.process_runtime import get_runtime

    store = get_runtime().store
    table = Table(title="Task runs recorded by this demo")
    for column in ("run", "task", "state", "attempts", "parent", "duration", "history"):
        table.add_column(column)
    colours = {"Completed": "green", "Failed": "red", "Crashed": "red", "TimedOut": "red"}
    records = store.get_many(run_ids, history=True)
    by_id = {r.id: r for r in records}
    children = [r for r in store.get_many(store.list_ids(limit=200), history=True)
                if r.parent_task_run_id]
    for record in [by_id[i] for i in run_ids if i in by_id] + [
        c for c in children if c.parent_task_run_id in by_id
    ]:
        colour = colours.get(record.state.value, "yellow")
        duration = record.duration_seconds
        table.add_row(
            record.id[:8],
            record.name,
            f"[{colour}]{record.state.value}",
            str(record.attempt),
            (record.parent_task_run_id or "")[:8],
            f"{duration * 1000:.1f} ms" if duration is not None else "",
            ">".join(h.name.value for h in record.history),
        )
    return table


def _gather(futures: list[Any], what: str) -> list[Any]:
    """The futures' results in order, with a spinner counting the finished ones while the
    wait lasts (a terminal only: rich draws nothing in a pipe or CI log)."""
    results = []
    with console.status(f"{what}: 0/{len(futures)} done") as status:
        for done, future in enumerate(futures, 1):
            results.append(future.result(timeout=30))
            status.update(f"{what}: {done}/{len(futures)} done")
    return results


def _deployments_section(prefix: str) -> None:
    from datetime import UTC, datetime, timedelta

    from tasks_core import run_deployment
    from tasks_core.demo import tasks as demo
    from tasks_core.process_runtime import get_runtime

    _section("Deployments: a flow of deployments across two work pools")
    _beat.append(subprocess.Popen(
        [sys.executable, "-m", "tasks_core.cli.main", "worker", "--pool", "reports",
         "--concurrency", "1", "--loglevel", "WARNING"],
        env=os.environ.copy(), start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    entry = "tasks_core/demo/tasks.py"
    from tasks_core.work_pools import create_pool

    create_pool("default", description="the demo's flows and tasks")
    create_pool("reports", concurrency_limit=2, description="the demo's etl deployments")
    demo.etl.deploy("reports", work_pool_name="reports", source=root, entrypoint=f"{entry}:etl")
    demo.orchestrate.deploy("demo", work_pool_name="default", source=root,
                            entrypoint=f"{entry}:orchestrate")
    with console.status("run_deployment('orchestrate/demo'): waiting for its flow run"):
        run = run_deployment("orchestrate/demo",
                             parameters={"sources": ["orders", "refunds"]}, timeout=90)
    console.print(f"orchestrate/demo on pool default -> {run.state.value}: {run.result()}")

    _section("A one-minute interval schedule, fired once by beat")
    anchor = datetime.now(UTC) - timedelta(seconds=57)  # the next time is ~3 s away
    deployed_at = datetime.now(UTC)
    demo.etl.deploy("every-minute", work_pool_name="reports", source=root,
                    entrypoint=f"{entry}:etl", parameters={"source": "scheduled"},
                    schedules=[{"interval": 60.0, "anchor_date": anchor.isoformat()}])
    store = get_runtime().store
    deadline = time.monotonic() + 60
    fired = None
    while fired is None and time.monotonic() < deadline:
        runs = store.get_many(store.list_ids("flow", limit=500))
        fired = next((r for r in runs if r.scheduled_time and r.state.value == "Completed"
                      and r.parameters.get("source") == "scheduled"
                      and r.created >= deployed_at), None)
        time.sleep(0.2)
    if fired is None:
        raise SystemExit("the scheduled run did not complete within a minute")
    late = (fired.start_time - fired.scheduled_time).total_seconds() * 1000  # type: ignore[operator]
    console.print(f"etl/every-minute fired for {fired.scheduled_time:%H:%M:%S} and ran "
                  f"{late:.0f} ms after its time -> {fired.state.value}")
    from tasks_core.deployments import set_paused

    set_paused("etl/every-minute", True)  # and its queued scheduled runs are cancelled
    console.print("Paused it again; `deployment ls` and `work-pool ls` (below) show what the "
                  "demo created.")
    _events_section(root, entry)


def _events_section(root: str, entry: str) -> None:
    """An event-triggered deployment and a custom event with a notification (beat's
    trigger engine runs both automations)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tasks_core.automations import Automation
    from tasks_core.automations.model import AutomationNotFound
    from tasks_core.demo import tasks as demo
    from tasks_core.events import EventTrigger, emit_event
    from tasks_core.events.actions import RunDeployment, SendNotification
    from tasks_core.process_runtime import get_runtime

    _section("Events: a custom event triggers a deployment and a notification")
    received: list[dict[str, str]] = []

    class Receiver(BaseHTTPRequestHandler):  # stands in for Slack, e-mail, ... (Apprise)
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    demo.etl.deploy("on-order", work_pool_name="reports", source=root,
                    entrypoint=f"{entry}:etl")
    name = "demo: etl on shipped orders"
    with contextlib.suppress(AutomationNotFound):  # a demo before's: its receiver is gone
        Automation.read(name).delete()
    Automation(
        name=name,
        trigger=EventTrigger(expect=frozenset({"demo.order.shipped"})),
        actions=[RunDeployment(deployment_name="etl/on-order",
                               parameters={"source": "{{ event.payload.source }}"}),
                 SendNotification(to=[f"json://127.0.0.1:{server.server_address[1]}/"],
                                  subject="order {{ event.payload.order }} shipped",
                                  body="etl/on-order started for {{ event.payload.source }}")],
    ).create()
    time.sleep(1.0)  # beat applies a new automation within a second
    event = emit_event("demo.order.shipped", resource={"prefect.resource.id": "demo.order.42"},
                       payload={"order": 42, "source": "shipments"})
    console.print(f"emit_event('demo.order.shipped') -> event {event.id[:8]}")
    store = get_runtime().store
    deadline = time.monotonic() + 60
    run = None
    while (run is None or not received) and time.monotonic() < deadline:
        runs = store.get_many(store.list_ids("flow", limit=500))
        run = next((r for r in runs if r.triggered_by is not None
                    and r.triggered_by.event_id == event.id
                    and r.state.value == "Completed"), None)
        time.sleep(0.2)
    server.shutdown()
    if run is None or run.triggered_by is None or not received:
        raise SystemExit("the event-triggered run or its notification did not come in 60 s")
    console.print(f"etl/on-order run {run.id[:8]} (source={run.parameters['source']!r}) "
                  f"started by automation {run.triggered_by.automation_name!r} on event "
                  f"{event.id[:8]} -> {run.state.value}")
    console.print(f"notification received: {received[0].get('title')!r}: "
                  f"{received[0].get('message')!r}")
    _webhook_section()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server() -> str:
    """`tasks-core server` on a free port (stopped with the worker); its base URL."""
    import urllib.request

    port = _free_port()
    _beat.append(subprocess.Popen(
        [sys.executable, "-m", "tasks_core.cli.main", "server", "--port", str(port),
         "--loglevel", "WARNING"], env=os.environ.copy(), start_new_session=True,
        stdout=subprocess.DEVNULL))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                return url
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the API server did not answer within 30 s")


def _webhook_section() -> None:
    """The lab's stretch 2: a webhook, and an automation that pauses a work pool when it
    fires; the request is sent over HTTP as any outside system would."""
    import json
    import urllib.request

    from tasks_core.automations import Automation
    from tasks_core.events import EventTrigger
    from tasks_core.events.actions import PauseWorkPool
    from tasks_core.settings import get_settings
    from tasks_core.webhooks import WebhookSpec, create_webhook
    from tasks_core.work_pools import pool_store, resume_pool

    _section("A webhook pauses a work pool (HTTP API on tasks-core server)")
    url = _start_server()
    template = json.dumps({"event": "demo.pager.{{ body.action }}",
                           "resource": {"tasks-core.resource.id": "demo.pager"},
                           "payload": {"reason": "{{ body.reason }}"}})
    hook, secret = create_webhook(WebhookSpec(name=f"demo-pager-{uuid.uuid4().hex[:6]}",
                                              template=template))
    Automation(name=f"demo: pause reports on page {hook.slug[:6]}",
               trigger=EventTrigger(expect=frozenset({"demo.pager.pause"})),
               actions=[PauseWorkPool(work_pool_name="reports")]).create()
    time.sleep(1.0)  # beat applies a new automation within a second
    hook_url = f"{url}/hooks/{hook.slug}"
    request = urllib.request.Request(
        hook_url, method="POST", data=json.dumps({"action": "pause", "reason": "disk full"})
        .encode(), headers={"Content-Type": "application/json",
                            "Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        console.print(f"POST {hook_url} -> {reply.status} (event "
                      f"{json.loads(reply.read())['id'][:8]})")
    deadline = time.monotonic() + 30
    while not pool_store().get("reports").paused and time.monotonic() < deadline:
        time.sleep(0.1)
    if not pool_store().get("reports").paused:
        raise SystemExit("the webhook's automation did not pause the pool within 30 s")
    console.print("work pool 'reports' is paused: its flow runs wait until it is resumed")
    resume_pool("reports")
    console.print(f"resumed it again; the API's routes are described at {url}/docs (while "
                  "the demo runs; `tasks-core up` keeps a server running)")
    port = get_settings().server_port
    console.print(f"Dashboard: `make up` (the stack under the demo's key prefix) and open "
                  f"http://127.0.0.1:{port}/ to see these runs, events, deployments and pools")


def _show_tree() -> str:
    from datetime import UTC, datetime

    from tasks_core.cli.flow_runs import gather_tree
    from tasks_core.cli.run_tree import render_timeline, render_tree, timeline
    from tasks_core.process_runtime import get_runtime

    rt = get_runtime()
    rt.reporter.flush()
    store = rt.store
    root = next(r for r in store.get_many(store.list_ids("flow", limit=20))
                if r.name == "nightly")
    tree, _ = gather_tree(store, rt.indexes, root)
    now = datetime.now(UTC)
    console.print(render_tree(tree, now))
    console.print(render_timeline(timeline(tree, now, 80)))
    return root.id


def main() -> int:
    """Show tasks alone; exit 0 when every step behaved as expected."""
    os.environ.setdefault("TASKS_CORE_KEY_PREFIX", "demo")
    prefix = os.environ["TASKS_CORE_KEY_PREFIX"]
    from tasks_core.demo import tasks as demo
    from tasks_core.process_runtime import get_runtime
    from tasks_core.settings import get_settings
    from tasks_core.store.connection import redis_url, safe_url

    _section("Redis")
    console.print(f"Redis in use: {safe_url(redis_url(get_settings()))}"
                  + ("" if get_settings().redis_url else " (embedded; `tasks-core down` stops it)"))
    worker = _start_worker()
    sent: list[str] = []
    try:
        _section("Tasks alone: .delay()")
        future = demo.add.delay(2, 3)
        sent.append(future.id)
        console.print(f"add.delay(2, 3) -> run {future.id[:8]} -> {future.result(timeout=30)}")

        _section("A countdown: apply_async(countdown=2)")
        later = demo.add.apply_async((10, 20), countdown=2)
        sent.append(later.id)
        console.print(f"state right after sending: {later.state.value}")
        started = time.monotonic()
        value = later.result(timeout=30)
        console.print(f"result {value} after {time.monotonic() - started:.1f}s")

        _section("Retries: fails twice, then succeeds")
        flaky = demo.flaky_fetch.delay(f"prices-{uuid.uuid4().hex[:6]}", 2)
        sent.append(flaky.id)
        console.print(flaky.result(timeout=30))

        _section("A failing task: the caller gets the task's exception")
        failing = demo.divide.delay(1, 0)
        sent.append(failing.id)
        try:
            failing.result(timeout=30)
            raise SystemExit("divide(1, 0) should have failed")
        except ZeroDivisionError as exc:
            console.print(f"[red]ZeroDivisionError[/red]: {exc} (run {failing.id[:8]} is "
                          f"{failing.state.value})")

        _section("A nested task: total_price calls multiply and add in the worker")
        nested = demo.total_price.delay(3, 9.5)
        sent.append(nested.id)
        console.print(f"total_price(3, 9.5) -> {nested.result(timeout=30)}")

        _section(".map() fans out: one tracked run per input")
        squares = demo.square.map(range(10))
        console.print(_gather(squares, "square.map(range(10))"))
        sent.extend(f.id for f in squares[:3])

        get_runtime().reporter.flush()
        time.sleep(0.2)  # let the worker's last batch land
        console.print(_runs_table(sent))

        _section("A flow of tasks, and a flow of nested flows (in this process)")
        totals = demo.nightly(["orders", "invoices"])
        console.print(f"nightly(['orders', 'invoices']) -> {totals}")
        root_id = _show_tree()
        _deployments_section(prefix)
        _section("Explore what the demo left (run these from this folder)")
        for line in hints(prefix, failing.id[:8], root_id[:8]):
            console.print(f"$ {line}", markup=False, highlight=False, soft_wrap=True)
    finally:
        for proc in [worker, *_beat]:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in [worker, *_beat]:
            proc.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
