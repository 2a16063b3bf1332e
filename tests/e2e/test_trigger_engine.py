"""Beat's trigger engine end to end: real redis-server, real beat and worker processes.

The course's dep-trigger example (import lines changed only) runs its downstream deployment
when an upstream flow run completes and stops at the loop limit; the lab's stretch 1 (a
custom event -> SendNotification delivered by Apprise's json:// to a local receiver);
custom events pausing and resuming one work queue of a pool; a
proactive trigger firing on time; compound, sequence and for_each triggers; beat SIGKILLed
between evaluating and acknowledging, restarted: no firing lost, none repeated.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tasks_core import StateName, flow
from tasks_core.automations import Automation
from tasks_core.events import emit_event
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.events.schema import Event
from tasks_core.events.triggers import CompoundTrigger, EventTrigger, SequenceTrigger
from tasks_core.process_runtime import get_runtime
from tests.helpers import ROOT, run_cli, wait_until

EXAMPLES = ROOT / "examples" / "course"
RID = "tasks-core.resource.id"


@flow
def upstream() -> int:
    return 1


def _engine_ready(tc_env: dict[str, Any], timeout: float = 30) -> None:
    """Until beat's engine has created its consumer group (it evaluates events from then)."""
    client, prefix = tc_env["client"], tc_env["prefix"]

    def ready() -> bool:
        if not client.exists(f"{prefix}:events"):
            return False
        return any(g["name"] == f"{prefix}:engine:group"
                   for g in client.xinfo_groups(f"{prefix}:events"))
    wait_until(ready, timeout, 0.05, "the trigger engine's consumer group")


def _events(glob: str, limit: int = 200) -> list[Event]:
    rt = get_runtime()
    rt.emitter.flush()
    return list(reversed(list_events(rt.events, EventFilter(events=(glob,)), limit=limit)))


def _deploy_dep_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the course's dep_trigger.py as a script, its source this folder, not GitHub."""
    from tasks_core.flow import Flow

    real = Flow.from_source.__func__  # type: ignore[attr-defined]

    def local_source(cls: type[Flow[Any, Any]], source: str, entrypoint: str,
                     **kwargs: Any) -> Flow[Any, Any]:
        return real(cls, str(EXAMPLES), "dep_trigger.py:downstream_flow", **kwargs)

    monkeypatch.setattr(Flow, "from_source", classmethod(local_source))
    runpy.run_path(str(EXAMPLES / "dep_trigger.py"), run_name="__main__")


def _downstream_runs() -> list[Any]:
    rt = get_runtime()
    runs = rt.store.get_many(rt.store.list_ids("flow", limit=100))
    return sorted((r for r in runs if r.name == "downstream-flow"), key=lambda r: r.created)


def test_dep_trigger_runs_downstream_and_stops_at_the_loop_limit(
        tc_env: dict[str, Any], start_worker: Any, start_beat: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _deploy_dep_trigger(monkeypatch)
    start_worker(concurrency=1, pool="managed1")
    start_beat(automation_max_chain_depth="2")
    _engine_ready(tc_env)
    upstream()  # a flow run completes: the trigger matches every flow
    get_runtime().reporter.flush()
    [first, second] = wait_until(
        lambda: (lambda rs: rs if len(rs) >= 2 and all(
            r.state == StateName.COMPLETED for r in rs) else None)(_downstream_runs()),
        60, 0.1, "two downstream runs to complete")
    stopped = wait_until(lambda: _events("tasks-core.automation.loop-stopped"), 30, 0.1,
                         "the loop-stopped event")
    time.sleep(1.5)  # nothing more may start after the stop
    assert len(_downstream_runs()) == 2
    [automation] = Automation.ls()
    assert first.triggered_by is not None and second.triggered_by is not None
    assert first.triggered_by.automation_id == automation.id
    # the second run was started by the first one's completion
    trigger_of_second = second.triggered_by.event_id
    completed = [e for e in _events("tasks-core.flow-run.Completed")
                 if e.id == trigger_of_second]
    assert completed and completed[0].resource[RID] == f"tasks-core.flow-run.{first.id}"
    [stop] = stopped
    chain = stop.payload["chain"]
    assert stop.payload["depth"] == 3 and stop.payload["max_chain_depth"] == 2
    assert [link["automation"] for link in chain] == [automation.name] * 3
    assert chain[1]["event_id"] == trigger_of_second
    triggered = _events("tasks-core.automation.triggered")
    assert len(triggered) == 2  # each firing once; the third was stopped
    # the CLI says why each run started, and the automation shows its loop stop
    shown = run_cli(tc_env["env"], "flow-run", "inspect", second.id)
    assert shown.returncode == 0, shown.stderr
    assert f"automation {automation.name!r} on event {trigger_of_second}" in " ".join(
        shown.stdout.split())
    inspected = run_cli(tc_env["env"], "automation", "inspect", automation.name)
    assert inspected.returncode == 0, inspected.stderr
    assert "Loop stopped" in inspected.stdout and stop.payload["triggering_event"] in \
        "".join(inspected.stdout.split())
    as_json = run_cli(tc_env["env"], "automation", "inspect", automation.name, "--json")
    assert as_json.returncode == 0, as_json.stderr
    loop_stop = json.loads(as_json.stdout)["loop_stop"]
    assert loop_stop["triggering_event"] == stop.payload["triggering_event"]
    assert loop_stop["depth"] == 3 and len(loop_stop["chain"]) == 3


# -- helpers for automations on custom events ---------------------------------------------


def _do_nothing(name: str, trigger: Any) -> Automation:
    return Automation(name, trigger, [{"type": "do-nothing"}]).create()


def _triggered(automation: Automation) -> list[Event]:
    return [e for e in _events("tasks-core.automation.triggered")
            if e.resource[RID] == f"tasks-core.automation.{automation.id}"]


def _emit(name: str, key: str = "1", **labels: str) -> Event:
    event = emit_event(name, {RID: f"acme.thing.{key}", **labels})
    get_runtime().emitter.flush()
    return event


class _Receiver:
    """A local HTTP server recording every request's path and JSON body."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append({"path": self.path,
                                          "body": json.loads(self.rfile.read(length))})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_lab_stretch_1_custom_event_triggers_an_apprise_notification(
        tc_env: dict[str, Any], start_beat: Any, receiver: _Receiver) -> None:
    # The lab's stretch 1: a custom event emitted in Python triggers a notification action.
    from tasks_core.events.actions import SendNotification

    start_beat()
    _engine_ready(tc_env)
    Automation("notify on kiki", EventTrigger(expect={"kiki.sent.event!"}),
               [SendNotification(to=f"json://127.0.0.1:{receiver.port}/notify",
                                 subject="{{ event.event }}",
                                 body="Hi {{ event.payload.name }}!")]).create()
    time.sleep(1.0)  # a created automation takes effect within 1 s (change message)
    done = subprocess.run([sys.executable, str(EXAMPLES / "emit_name_event.py")],
                          env=tc_env["env"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: receiver.requests, 30, 0.05, "the notification")
    time.sleep(0.5)
    [request] = receiver.requests
    assert request["path"] == "/notify"
    assert (request["body"]["title"], request["body"]["message"]) == (
        "kiki.sent.event!", "Hi kiki!")
    [executed] = wait_until(lambda: _events("tasks-core.automation.action.executed"), 10)
    assert executed.payload["action_type"] == "send-notification"


def test_a_custom_event_pauses_a_work_queue_and_another_resumes_it(
        tc_env: dict[str, Any], start_beat: Any) -> None:
    from tasks_core.events.actions import PauseWorkQueue, ResumeWorkQueue
    from tasks_core.work_pools import create_pool, pool_store

    pool = tc_env["queue"]
    create_pool(pool)
    start_beat()
    _engine_ready(tc_env)
    Automation("pause on overload", EventTrigger(expect={"acme.queue.overloaded"}),
               [PauseWorkQueue(source="inferred")]).create()
    Automation("resume when calm", EventTrigger(expect={"acme.queue.calm"}),
               [ResumeWorkQueue(work_pool_name=pool, work_queue_name="high")]).create()
    time.sleep(1.0)  # a created automation takes effect within 1 s (change message)
    emit_event("acme.queue.overloaded", {RID: "acme.monitor.1"},
               related=[{RID: f"tasks-core.work-queue.{pool}:high",
                         "tasks-core.resource.role": "work-queue"}])
    get_runtime().emitter.flush()
    wait_until(lambda: pool_store().get(pool).paused_queues == ["high"], 30, 0.05,
               "the queue to be paused")
    assert pool_store().get(pool).paused is False
    _emit("acme.queue.calm")
    wait_until(lambda: pool_store().get(pool).paused_queues == [], 30, 0.05,
               "the queue to be resumed")
    queue_events = wait_until(
        lambda: (lambda es: es if len(es) == 2 else None)(_events("tasks-core.work-queue.*")),
        10, 0.05, "the queue's events")
    assert [e.event for e in queue_events] == ["tasks-core.work-queue.paused",
                                               "tasks-core.work-queue.resumed"]
    assert {e.resource[RID] for e in queue_events} == {f"tasks-core.work-queue.{pool}:high"}
    executed = _events("tasks-core.automation.action.executed")
    assert sorted(e.payload["action_type"] for e in executed) == [
        "pause-work-queue", "resume-work-queue"]


def test_proactive_trigger_fires_when_the_event_does_not_come_on_time(
        tc_env: dict[str, Any], start_beat: Any) -> None:
    start_beat()
    _engine_ready(tc_env)
    watched = _do_nothing("heartbeat missing", EventTrigger(
        expect={"acme.heartbeat"}, posture="Proactive", threshold=1, within=10))
    fed = _do_nothing("heartbeat fed", EventTrigger(
        expect={"acme.pulse"}, posture="Proactive", threshold=1, within=10))
    created = time.time()
    for _ in range(4):  # the fed one sees its event in every part of its window
        time.sleep(2.5)
        _emit("acme.pulse")
    [firing] = wait_until(lambda: _triggered(watched), 20, 0.05, "the proactive firing")
    end = datetime.fromisoformat(firing.payload["fired_at"])
    # the window opened when the engine loaded it (well within 1 s of creating it)...
    assert abs(end.timestamp() - (created + 10)) < 1.5
    # ... and the firing came within about 1 s of the window's end, not on a coarse poll
    assert timedelta(0) <= firing.occurred - end < timedelta(seconds=1.5)
    assert _triggered(fed) == []
    assert len(_triggered(watched)) == 1
    beat = _emit("acme.heartbeat")  # the awaited event comes at last: resolved, once
    [resolved] = wait_until(lambda: _events("tasks-core.automation.resolved"), 20, 0.05,
                            "the resolved event")
    assert resolved.payload["firing_id"] == firing.payload["firing_id"]
    assert resolved.payload["resolving_event"] == beat.id
    assert resolved.resource[RID] == f"tasks-core.automation.{watched.id}"


def test_compound_and_sequence_triggers(tc_env: dict[str, Any], start_beat: Any) -> None:
    start_beat()
    _engine_ready(tc_env)
    both = _do_nothing("a and b", CompoundTrigger(require="all", within=60, triggers=[
        EventTrigger(expect={"acme.a"}), EventTrigger(expect={"acme.b"})]))
    either = _do_nothing("a or b", CompoundTrigger(require="any", triggers=[
        EventTrigger(expect={"acme.a"}), EventTrigger(expect={"acme.b"})]))
    ordered = _do_nothing("a then b", SequenceTrigger(within=60, triggers=[
        EventTrigger(expect={"acme.a"}), EventTrigger(expect={"acme.b"})]))
    time.sleep(1.0)
    _emit("acme.b")  # sequence: b before a does not count
    wait_until(lambda: len(_triggered(either)) == 1, 20, 0.05, "'a or b' on b")
    assert _triggered(both) == [] and _triggered(ordered) == []
    _emit("acme.a")
    wait_until(lambda: len(_triggered(both)) == 1, 20, 0.05, "'a and b' on a")
    wait_until(lambda: len(_triggered(either)) == 2, 20, 0.05, "'a or b' on a")
    assert _triggered(ordered) == []  # b came first
    _emit("acme.b")
    [fired] = wait_until(lambda: _triggered(ordered), 20, 0.05, "'a then b'")
    assert len(fired.payload["event_ids"]) == 2
    time.sleep(0.5)
    assert len(_triggered(both)) == 1  # a and b fired once; the second b alone does not


def test_an_event_emitted_right_after_its_automation_is_created_fires_it(
        tc_env: dict[str, Any], start_beat: Any) -> None:
    """A script that creates an automation and emits its event at once (a new user's first
    try): the engine, woken by the event, applies the change it heard while it waited
    before evaluating. Before, it evaluated the event first and the automation missed it
    (0 of 3 fired in a new user's trial)."""
    start_beat()
    _engine_ready(tc_env)
    time.sleep(0.5)  # the engine waits in its blocking read
    made = []
    for i in range(5):
        made.append(_do_nothing(f"at once {i}", EventTrigger(expect={f"acme.now.{i}"})))
        _emit(f"acme.now.{i}")
    for automation in made:
        wait_until(lambda a=automation: len(_triggered(a)) == 1, 20, 0.05,
                   f"{automation.name!r} to fire")


def test_for_each_counts_per_label_value(tc_env: dict[str, Any], start_beat: Any) -> None:
    start_beat()
    _engine_ready(tc_env)
    per_customer = _do_nothing("two orders per customer", EventTrigger(
        expect={"acme.order.paid"}, for_each={"acme.customer"}, threshold=2, within=60))
    time.sleep(1.0)
    _emit("acme.order.paid", "1", **{"acme.customer": "ann"})
    _emit("acme.order.paid", "2", **{"acme.customer": "bob"})
    _emit("acme.order.paid", "3", **{"acme.customer": "ann"})
    [fired] = wait_until(lambda: _triggered(per_customer), 20, 0.05, "ann's firing")
    assert fired.payload["labels"] == {"acme.customer": "ann"}
    time.sleep(1.0)
    assert len(_triggered(per_customer)) == 1  # bob has one order only


@pytest.mark.parametrize("crash", ["1", "before-commit"])
def test_beat_killed_between_evaluating_and_acking_loses_and_repeats_nothing(
        tc_env: dict[str, Any], start_beat: Any, crash: str) -> None:
    from tests.integration import sample_flows as f

    deployment_id = f.pipeline.deploy("on-orders", work_pool_name=tc_env["queue"],
                                      parameters={"lat": 1})
    automation = Automation("run on order", EventTrigger(expect={"acme.order.created"}),
                            [{"type": "run-deployment", "deployment_id": deployment_id},
                             {"type": "do-nothing"}]).create()
    tc_env["env"]["BEAT_TEST_CRASH_AFTER_EVALUATE"] = crash
    try:
        doomed = start_beat()
    finally:
        del tc_env["env"]["BEAT_TEST_CRASH_AFTER_EVALUATE"]
    _engine_ready(tc_env)
    time.sleep(0.5)
    event = _emit("acme.order.created")
    wait_until(lambda: doomed.poll() is not None, 30, 0.05, "beat to die after evaluating")
    assert doomed.returncode == -signal.SIGKILL
    rt = get_runtime()
    assert rt.engine.pending_count() >= 1  # the entry was read, never acked
    assert (rt.engine.pending_firings() != {}) == (crash == "1")
    evaluated = f"{tc_env['prefix']}:engine:evaluated"
    assert (tc_env["client"].zcard(evaluated) > 0) == (crash == "1")  # committed, not acked
    assert _runs_of(deployment_id) == []  # nothing ran yet
    start_beat()  # takes the lead once the dead one's lock expires
    [run] = wait_until(lambda: _runs_of(deployment_id), 30, 0.05, "the run, after restart")
    wait_until(lambda: len(_events("tasks-core.automation.action.executed")) == 2, 20, 0.05,
               "both actions executed")
    time.sleep(1.5)  # no repeat may follow
    assert [r.id for r in _runs_of(deployment_id)] == [run.id]
    assert run.triggered_by is not None and run.triggered_by.event_id == event.id
    assert len(_events("tasks-core.automation.action.executed")) == 2
    assert len(_triggered(automation)) == 1
    assert rt.engine.pending_firings() == {}
    wait_until(lambda: rt.engine.pending_count() == 0, 10, 0.05, "every entry acked")
    assert tc_env["client"].zcard(evaluated) == 0


def _runs_of(deployment_id: str) -> list[Any]:
    rt = get_runtime()
    runs = rt.store.get_many(rt.store.list_ids("flow", limit=100))
    return [r for r in runs if r.deployment_id == deployment_id]


def test_two_beats_fail_over_without_double_firing(tc_env: dict[str, Any],
                                                   start_beat: Any) -> None:
    counted = _do_nothing("every order", EventTrigger(expect={"acme.order.created"}))
    beats = [start_beat(), start_beat()]
    _engine_ready(tc_env)
    time.sleep(1.0)
    for i in range(5):
        _emit("acme.order.created", str(i))
    wait_until(lambda: len(_triggered(counted)) == 5, 20, 0.05, "five firings")
    holder = tc_env["client"].get(f"{tc_env['prefix']}:lock:beat")
    [leader] = [b for b in beats if holder.endswith(f":{b.pid}")]
    os.killpg(leader.pid, signal.SIGKILL)
    leader.wait(10)
    for i in range(5, 10):
        _emit("acme.order.created", str(i))
    wait_until(lambda: len(_triggered(counted)) == 10, 30, 0.05, "five more, on the standby")
    time.sleep(1.0)
    fired = _triggered(counted)
    assert len(fired) == 10
    assert len({e.payload["triggering_event"] for e in fired}) == 10


def test_changes_take_effect_within_a_second_and_bad_entries_are_skipped(
        tc_env: dict[str, Any], start_beat: Any) -> None:
    from tasks_core.automations import set_enabled

    start_beat()
    _engine_ready(tc_env)
    orders = _do_nothing("orders", EventTrigger(expect={"acme.order.created"}))
    time.sleep(1.0)
    _emit("acme.order.created", "1")
    wait_until(lambda: len(_triggered(orders)) == 1, 20, 0.05, "the first firing")
    set_enabled("orders", False)
    time.sleep(1.0)
    _emit("acme.order.created", "2")  # paused: not counted
    # a malformed entry (not an event) on the stream is skipped with an error event and
    # blocks nothing after it
    tc_env["client"].xadd(f"{tc_env['prefix']}:events", {"event": "{not json"})
    tc_env["client"].xadd(f"{tc_env['prefix']}:events", {"other": "field"})
    [skipped, _] = wait_until(lambda: (lambda s: s if len(s) == 2 else None)(
        _events("tasks-core.engine.entry-skipped")), 20, 0.05, "two entry-skipped events")
    assert "error" in skipped.payload and skipped.payload["entry_id"]
    set_enabled("orders", True)
    time.sleep(1.0)
    third = _emit("acme.order.created", "3")
    wait_until(lambda: len(_triggered(orders)) == 2, 20, 0.05, "the firing after resuming")
    assert _triggered(orders)[-1].payload["triggering_event"] == third.id
    Automation.read("orders").delete()
    time.sleep(1.0)
    _emit("acme.order.created", "4")
    time.sleep(1.0)
    assert len(_triggered(orders)) == 2
    wait_until(lambda: get_runtime().engine.pending_count() == 0, 10, 0.05, "all acked")


def test_latency_from_emit_to_the_triggered_run(tc_env: dict[str, Any], start_beat: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # Loose on a shared machine: the figures of record come from bench/events.py.
    from tests.integration import sample_flows as f

    deployment_id = f.pipeline.deploy("on-ping", work_pool_name=tc_env["queue"],
                                      parameters={"lat": 1})
    Automation("run on ping", EventTrigger(expect={"acme.ping"}),
               [{"type": "run-deployment", "deployment_id": deployment_id}]).create()
    start_beat()
    _engine_ready(tc_env)
    time.sleep(1.0)
    for i in range(20):
        _emit("acme.ping", str(i))  # flushes: each event is on the stream at once
        time.sleep(0.05)
    runs = wait_until(lambda: (lambda rs: rs if len(rs) == 20 else None)(
        _runs_of(deployment_id)), 30, 0.05, "20 triggered runs")
    occurred = {e.id: e.occurred for e in _events("acme.ping")}
    delays = sorted((r.created - occurred[r.triggered_by.event_id]).total_seconds()
                    for r in runs)
    with capsys.disabled():
        print(f"\nemit -> triggered run created: p50 {delays[10] * 1000:.0f} ms, "
              f"max {delays[-1] * 1000:.0f} ms")
    assert delays[10] < 0.5 and delays[-1] < 2.0
