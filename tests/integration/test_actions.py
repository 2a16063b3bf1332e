"""Actions executed against real Redis (and a real worker where a flow must run): run,
pause and resume deployments and pools, cancel and change flow runs, notify through
Apprise and call webhooks (a local HTTP receiver), and each action's event."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tasks_core.deployments import run_deployment
from tasks_core.events import Event, build_event
from tasks_core.events.actions import (
    ACTION_EXECUTED,
    ACTION_FAILED,
    ActionContext,
    ActionFailed,
    AutomationRef,
    CallWebhook,
    CancelFlowRun,
    ChangeFlowRunState,
    PauseAutomation,
    PauseDeployment,
    PauseWorkPool,
    PauseWorkQueue,
    ResumeAutomation,
    ResumeDeployment,
    ResumeWorkPool,
    ResumeWorkQueue,
    RunDeployment,
    SendNotification,
    execute_action,
)
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.process_runtime import get_runtime, reset_runtime
from tasks_core.records import TriggeredBy
from tasks_core.settings import reset_settings
from tasks_core.states import StateName
from tasks_core.work_pools import create_pool
from tests.helpers import free_port, wait_until
from tests.integration import sample_flows as f

S = StateName
RID = "tasks-core.resource.id"
ROLE = "tasks-core.resource.role"
AUTOMATION = AutomationRef(id="a1", name="ship-it")


def _event(payload: dict[str, Any] | None = None, **labels: str) -> Event:
    return build_event("acme.order.shipped", {RID: "acme.order.42", **labels},
                       payload=payload or {})


def _ctx(event: Event | None = None, *, key: str = "firing1:0", index: int = 0,
         **options: Any) -> ActionContext:
    return ActionContext(automation=AUTOMATION, idempotency_key=key, event=event,
                         action_index=index, **options)


def _events(glob: str) -> list[Event]:
    rt = get_runtime()
    rt.emitter.flush()
    return list(reversed(list_events(rt.events, EventFilter(events=(glob,)), limit=100)))


def _deploy(tc_env: dict[str, Any], name: str = "on-event") -> str:
    return f.pipeline.deploy(name, work_pool_name=tc_env["queue"])


# -- RunDeployment ------------------------------------------------------------------------


def test_run_deployment_runs_the_flow_with_rendered_parameters(tc_env: dict[str, Any],
                                                               start_worker: Any) -> None:
    dep_id = _deploy(tc_env)
    start_worker(concurrency=1, pool=tc_env["queue"])
    event = _event({"lat": 3})
    action = RunDeployment(deployment_name="pipeline/on-event",
                           parameters={"lat": "{{ event.payload.lat }}",
                                       "lon": "{{ event.payload.lat * 2 }}"})
    result = execute_action(action, _ctx(event))
    run_id = result.detail["flow_run_id"]
    assert result.detail["created"] is True
    assert result.target == f"tasks-core.deployment.{dep_id}"
    rt = get_runtime()
    assert rt.store.wait(run_id, 30)
    run = rt.store.get(run_id)
    assert run.state == S.COMPLETED
    assert run.parameters == {"lat": 3, "lon": 6}  # the lone expressions kept their type
    assert json.loads(rt.store.result_json(run_id) or "null") == \
        {"lat": 3.0, "lon": 6.0, "sum": 9}
    assert run.triggered_by == TriggeredBy(automation_id="a1", automation_name="ship-it",
                                           event_id=event.id, event="acme.order.shipped")
    assert {"tasks-core.resource.id": "tasks-core.automation.a1", ROLE: "automation",
            "tasks-core.resource.name": "ship-it"} in run.related
    run_events = [e for e in _events("tasks-core.flow-run.*")
                  if e.resource_id == f"tasks-core.flow-run.{run_id}"]
    assert run_events[0].follows == event.id  # the first follows the trigger, the rest chain
    assert [e.follows for e in run_events[1:]] == [e.id for e in run_events[:-1]]
    [executed] = _events(ACTION_EXECUTED)
    assert executed.follows == event.id
    assert executed.payload["flow_run_id"] == run_id
    assert executed.payload["action_type"] == "run-deployment"
    assert (f"tasks-core.flow-run.{run_id}", "flow-run") in \
        [(r[RID], r[ROLE]) for r in executed.related]


def test_the_same_idempotency_key_gives_one_run_and_one_event(tc_env: dict[str, Any]) -> None:
    _deploy(tc_env)
    action = RunDeployment(deployment_name="pipeline/on-event", parameters={"lat": 1})
    first = execute_action(action, _ctx(_event(), key="f9:0"))
    again = execute_action(action, _ctx(_event(), key="f9:0"))
    other = execute_action(action, _ctx(_event(), key="f9:1", index=1))
    assert again.detail["flow_run_id"] == first.detail["flow_run_id"]
    assert (first.detail["created"], again.detail["created"]) == (True, False)
    assert other.detail["flow_run_id"] != first.detail["flow_run_id"]
    assert len(get_runtime().store.list_ids("flow")) == 2
    assert len(_events(ACTION_EXECUTED)) == 2  # the repeat of f9:0 wrote no second event


def test_inferred_deployment_from_the_event(tc_env: dict[str, Any]) -> None:
    dep_id = _deploy(tc_env)
    event = build_event("tasks-core.flow-run.Completed",
                        {RID: "tasks-core.flow-run.upstream"},
                        related=[{RID: "tasks-core.flow.pipeline", ROLE: "flow"},
                                 {RID: f"tasks-core.deployment.{dep_id}", ROLE: "deployment"}])
    result = execute_action(RunDeployment(source="inferred", parameters={"lat": 2}),
                            _ctx(event))
    run = get_runtime().store.get(result.detail["flow_run_id"])
    assert run.deployment_id == dep_id and run.parameters == {"lat": 2}


def test_an_inferred_target_the_event_does_not_name_fails_with_an_event(
        tc_env: dict[str, Any]) -> None:
    _deploy(tc_env)
    event = _event()
    with pytest.raises(ActionFailed, match=r"event 'acme\.order\.shipped' .* names no "
                                           r"deployment to infer .*acme\.order\.42"):
        execute_action(RunDeployment(source="inferred"), _ctx(event, index=2, key="f1:2"))
    assert get_runtime().store.list_ids("flow") == []
    [failed] = _events(ACTION_FAILED)
    assert failed.payload["action_index"] == 2
    assert "names no deployment" in failed.payload["error"]
    assert failed.resource["tasks-core.action.type"] == "run-deployment"
    assert failed.follows == event.id


def test_schedule_after_and_a_parameter_that_does_not_validate(tc_env: dict[str, Any]) -> None:
    _deploy(tc_env)
    now = datetime.now(UTC)
    result = execute_action(RunDeployment(deployment_name="pipeline/on-event",
                                          parameters={"lat": 1}, schedule_after=60),
                            _ctx(now=now))
    run = get_runtime().store.get(result.detail["flow_run_id"])
    assert run.state == S.SCHEDULED
    assert run.scheduled_time == now + timedelta(seconds=60)
    with pytest.raises(ActionFailed, match="lat: Input should be a valid number"):
        execute_action(RunDeployment(deployment_name="pipeline/on-event",
                                     parameters={"lat": "{{ event.payload.where }}"}),
                       _ctx(_event({"where": "north"}), key="f2:0"))
    with pytest.raises(ActionFailed, match=r"template error: .*'dict object' has no "
                                           r"attribute 'nope'"):
        execute_action(RunDeployment(deployment_name="pipeline/on-event",
                                     parameters={"lat": "{{ event.payload.nope }}"}),
                       _ctx(_event(), key="f3:0"))
    assert len(get_runtime().store.list_ids("flow")) == 1


def test_an_unknown_deployment_fails_naming_close_ones(tc_env: dict[str, Any]) -> None:
    _deploy(tc_env)
    with pytest.raises(ActionFailed, match="did you mean 'pipeline/on-event'"):
        execute_action(RunDeployment(deployment_name="pipeline/on-evnt"), _ctx())


# -- pause / resume -----------------------------------------------------------------------


def test_pause_and_resume_a_deployment(tc_env: dict[str, Any]) -> None:
    dep_id = _deploy(tc_env)
    deployments = get_runtime().deployments
    execute_action(PauseDeployment(deployment_name="pipeline/on-event"), _ctx())
    assert deployments.get(dep_id).paused is True
    event = build_event("acme.thing", {RID: f"tasks-core.deployment.{dep_id}"})
    result = execute_action(ResumeDeployment(source="inferred"), _ctx(event, key="f1:1"))
    assert deployments.get(dep_id).paused is False
    assert result.detail == {"deployment": "pipeline/on-event", "paused": False}
    names = [e.event for e in _events("tasks-core.deployment.*")]
    assert names[-2:] == ["tasks-core.deployment.paused", "tasks-core.deployment.resumed"]


def test_pause_and_resume_a_work_pool(tc_env: dict[str, Any]) -> None:
    pool = tc_env["queue"]
    create_pool(pool)
    execute_action(PauseWorkPool(work_pool_name=pool), _ctx())
    assert get_runtime().pools.get(pool).paused is True
    execute_action(ResumeWorkPool(work_pool_name=pool), _ctx(key="f1:1"))
    assert get_runtime().pools.get(pool).paused is False
    with pytest.raises(ActionFailed, match="work pool 'no-such-pool' not found"):
        execute_action(PauseWorkPool(work_pool_name="no-such-pool"), _ctx(key="f1:2"))


def test_pause_and_resume_a_work_queue(tc_env: dict[str, Any]) -> None:
    pool = tc_env["queue"]
    create_pool(pool)
    pools = get_runtime().pools
    paused = execute_action(PauseWorkQueue(work_queue_id=f"{pool}:high"), _ctx())
    assert paused.target == f"tasks-core.work-queue.{pool}:high"
    assert paused.detail == {"work_pool": pool, "work_queue": "high", "paused": True,
                             "woken": 0}
    execute_action(PauseWorkQueue(work_pool_name=pool, work_queue_name="low"),
                   _ctx(key="f1:1"))
    assert pools.get(pool).paused_queues == ["high", "low"]
    assert pools.get(pool).paused is False  # the pool itself goes on
    # inferred: a deployment event names its work queue as a related resource
    event = build_event("acme.x", {RID: "acme.thing"},
                        related=[{RID: f"tasks-core.work-queue.{pool}:high",
                                  ROLE: "work-queue"}])
    resumed = execute_action(ResumeWorkQueue(source="inferred"), _ctx(event, key="f1:2"))
    assert resumed.detail["work_queue"] == "high" and resumed.detail["paused"] is False
    assert pools.get(pool).paused_queues == ["low"]
    with pytest.raises(ActionFailed, match="work pool 'no-such-pool' not found"):
        execute_action(PauseWorkQueue(work_queue_id="no-such-pool:high"), _ctx(key="f1:3"))
    with pytest.raises(ActionFailed, match="names no work-queue to infer"):
        execute_action(PauseWorkQueue(source="inferred"), _ctx(_event(), key="f1:4"))
    queue_events = _events("tasks-core.work-queue.*")
    assert [(e.event, e.resource[RID]) for e in queue_events] == [
        ("tasks-core.work-queue.paused", f"tasks-core.work-queue.{pool}:high"),
        ("tasks-core.work-queue.paused", f"tasks-core.work-queue.{pool}:low"),
        ("tasks-core.work-queue.resumed", f"tasks-core.work-queue.{pool}:high")]
    executed = _events(ACTION_EXECUTED)
    assert [e.payload["action_type"] for e in executed] == [
        "pause-work-queue", "pause-work-queue", "resume-work-queue"]
    assert {"tasks-core.resource.id": f"tasks-core.work-queue.{pool}:high",
            ROLE: "work-queue"} in executed[0].related
    [failed, not_named] = _events(ACTION_FAILED)
    assert "no-such-pool" in failed.payload["error"]
    assert "names no work-queue" in not_named.payload["error"]


def test_pause_and_resume_an_automation_through_the_engines_callback(
        tc_env: dict[str, Any]) -> None:
    calls: list[tuple[str, bool]] = []

    def set_enabled(name_or_id: str, enabled: bool) -> None:
        if name_or_id == "ghost":
            raise LookupError("automation 'ghost' not found")
        calls.append((name_or_id, enabled))

    execute_action(PauseAutomation(automation_name="nightly"),
                   _ctx(set_automation_enabled=set_enabled))
    event = build_event("acme.x", {RID: "tasks-core.automation.a7"})
    execute_action(ResumeAutomation(source="inferred"),
                   _ctx(event, key="f1:1", set_automation_enabled=set_enabled))
    assert calls == [("nightly", False), ("a7", True)]
    with pytest.raises(ActionFailed, match="automation 'ghost' not found"):
        execute_action(PauseAutomation(automation_name="ghost"),
                       _ctx(key="f1:2", set_automation_enabled=set_enabled))
    with pytest.raises(ActionFailed, match="no set_automation_enabled"):
        execute_action(PauseAutomation(automation_name="nightly"), _ctx(key="f1:3"))


# -- flow runs ----------------------------------------------------------------------------


def test_cancel_a_running_flow_run_inferred_from_its_event(tc_env: dict[str, Any],
                                                           start_worker: Any) -> None:
    f.spinning_family.deploy("spinner", work_pool_name=tc_env["queue"])
    start_worker(concurrency=2, pool=tc_env["queue"])
    run_id = run_deployment("spinning-family/spinner", parameters={"key": "c1"}, timeout=0).id
    rt = get_runtime()
    wait_until(lambda: rt.store.state_of(run_id) == S.RUNNING and rt.store.children(run_id),
               30, 0.05, "the run and its task runs to start")
    [running] = [e for e in _events("tasks-core.flow-run.Running")
                 if e.resource_id == f"tasks-core.flow-run.{run_id}"]
    result = execute_action(CancelFlowRun(), _ctx(running))
    assert result.detail["state"] in (S.CANCELLING, S.CANCELLED)
    assert rt.store.wait(run_id, 20)
    record = rt.store.get(run_id)
    assert record.state == S.CANCELLED
    assert "ship-it" in record.state_message or any(
        "ship-it" in h.message for h in record.history)
    with pytest.raises(ActionFailed, match="names no flow-run"):
        execute_action(CancelFlowRun(), _ctx(_event(), key="f1:1"))


def test_change_flow_run_state_only_where_the_state_machine_allows(
        tc_env: dict[str, Any]) -> None:
    _deploy(tc_env)
    run_id = run_deployment("pipeline/on-event", parameters={"lat": 1}, timeout=0).id
    action = ChangeFlowRunState(source="selected", flow_run_id=run_id, state="FAILED",
                                message="{{ automation.name }} says no")
    result = execute_action(action, _ctx())
    assert result.detail == {"flow_run_id": run_id, "from": "Pending", "to": "Failed"}
    record = get_runtime().store.get(run_id)
    assert (record.state, record.state_message) == (S.FAILED, "ship-it says no")
    with pytest.raises(ActionFailed, match="is Failed; the state machine refuses "
                                           "Failed -> Completed"):
        execute_action(ChangeFlowRunState(source="selected", flow_run_id=run_id,
                                          state="COMPLETED"), _ctx(key="f1:1"))
    assert get_runtime().store.get(run_id).state == S.FAILED
    with pytest.raises(ActionFailed, match="flow run 'nope' not found"):
        execute_action(ChangeFlowRunState(source="selected", flow_run_id="nope",
                                          state="FAILED"), _ctx(key="f1:2"))


# -- notifications and webhooks -----------------------------------------------------------


class _Receiver:
    """A local HTTP server recording every request (method, path, headers, body)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers),
                                          "body": self.rfile.read(length).decode()})
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"thanks")

            do_GET = do_POST = do_PUT = _any

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


def test_send_notification_through_apprise_json(tc_env: dict[str, Any],
                                                receiver: _Receiver) -> None:
    action = SendNotification(to=f"json://127.0.0.1:{receiver.port}/hook",
                              subject="order {{ event.payload.order }} shipped",
                              body="{{ event.payload.count }} items for "
                                   "{{ labels['acme.user'] }}")
    result = execute_action(action, _ctx(_event({"order": 42, "count": 3}, **{"acme.user":
                                                                              "ann"})))
    [request] = receiver.requests
    sent = json.loads(request["body"])
    assert (request["method"], request["path"]) == ("POST", "/hook")
    assert (sent["title"], sent["message"]) == ("order 42 shipped", "3 items for ann")
    assert result.detail == {"delivered": ["json://..."], "logged": False}


def test_a_failed_delivery_fails_the_action(tc_env: dict[str, Any],
                                            receiver: _Receiver) -> None:
    receiver.status = 500
    with pytest.raises(ActionFailed, match="delivery failed"):
        execute_action(SendNotification(to=f"json://127.0.0.1:{receiver.port}/", body="x"),
                       _ctx())
    closed = free_port()
    with pytest.raises(ActionFailed, match="delivery failed"):
        execute_action(SendNotification(to=f"json://127.0.0.1:{closed}/", body="x"),
                       _ctx(key="f1:1"))
    [failed, _] = _events(ACTION_FAILED)
    assert "delivery failed" in failed.payload["error"]
    assert "127.0.0.1" not in failed.payload["error"]  # URLs shown by scheme only


def test_log_or_no_target_writes_to_the_engines_log(tc_env: dict[str, Any],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tasks_core.automations")
    execute_action(SendNotification(body="hello {{ automation.name }}"), _ctx())
    execute_action(SendNotification(to="log://", subject="s2", body="b2"), _ctx(key="f1:1"))
    text = caplog.text
    assert "hello ship-it" in text and "s2" in text and "b2" in text


def _allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true")
    reset_settings()
    reset_runtime()


def test_call_webhook_sends_the_rendered_request(tc_env: dict[str, Any], receiver: _Receiver,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{receiver.port}/in"
    hook = CallWebhook(url=url, method="PUT", headers={"X-Order": "{{ event.payload.n }}"},
                       payload={"n": "{{ event.payload.n }}", "who": "{{ automation.name }}"})
    with pytest.raises(ActionFailed, match="private or loopback address; set "
                                           "webhook_allow_private_addresses"):
        execute_action(hook, _ctx(_event({"n": 7})))
    assert receiver.requests == []
    _allow_private(monkeypatch)
    result = execute_action(hook, _ctx(_event({"n": 7}), key="f1:1"))
    [request] = receiver.requests
    assert (request["method"], request["path"]) == ("PUT", "/in")
    assert request["headers"]["X-Order"] == "7"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {"n": 7, "who": "ship-it"}
    assert (result.detail["status"], result.detail["response"]) == (200, "thanks")
    receiver.status = 503
    event = _event()
    with pytest.raises(ActionFailed, match="HTTP 503"):
        execute_action(CallWebhook(url=url, payload="text {{ event.id }}"),
                       _ctx(event, key="f1:2"))
    assert receiver.requests[-1]["body"] == f"text {event.id}"
    assert receiver.requests[-1]["headers"]["Content-Type"].startswith("text/plain")


def test_call_webhook_never_calls_metadata_addresses(tc_env: dict[str, Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _allow_private(monkeypatch)
    with pytest.raises(ActionFailed, match=r"169\.254\.169\.254, a link-local"):
        execute_action(CallWebhook(url="http://169.254.169.254/latest/meta-data/"), _ctx())
    [failed] = _events(ACTION_FAILED)
    assert failed.payload["action_type"] == "call-webhook"


# -- check_action (when an automation is saved) -------------------------------------------


def test_check_action_refuses_what_could_never_run(tc_env: dict[str, Any]) -> None:
    from tasks_core.events.actions import ActionError, check_action, parse_action

    _deploy(tc_env, "daily")
    create_pool("gpu-pool")
    check_action(RunDeployment(deployment_name="pipeline/daily",
                               parameters={"lat": "{{ event.payload.lat }}"}))
    check_action(PauseWorkPool(work_pool_name="gpu-pool"))
    check_action(RunDeployment(source="inferred"))  # nothing to look up
    check_action(SendNotification(to=["json://127.0.0.1:9/", "log://"], body="x"))
    refusals = [
        ({"type": "run-deployment", "deployment_name": "pipeline/dayly"},
         r"^RunDeployment: deployment 'pipeline/dayly' not found \(did you mean "
         r"'pipeline/daily'\?\)"),
        ({"type": "pause-deployment", "deployment_id": "no-such-id"},
         r"^PauseDeployment: deployment 'no-such-id' not found"),
        ({"type": "resume-work-pool", "work_pool_name": "gpu-pol"},
         r"^ResumeWorkPool: work pool 'gpu-pol' not found \(did you mean 'gpu-pool'\?\)"),
        ({"type": "pause-work-pool", "work_pool_name": "zzz"},
         r"work pool 'zzz' not found \(create it with `tasks-core work-pool create zzz`\)"),
        ({"type": "run-deployment", "deployment_name": "pipeline/daily",
          "parameters": {"lat": "{{ event.payload.lat }"}},
         r"^RunDeployment: parameters\.lat: invalid template"),
        ({"type": "send-notification", "to": ["log://", "nosuchservice://x"], "body": "b"},
         r"^SendNotification: to\[1\]: nosuchservice://\.\.\. is not a URL Apprise can use"),
    ]
    for data, message in refusals:
        with pytest.raises(ActionError, match=message):
            check_action(parse_action(data))
    check_action(PauseWorkQueue(work_queue_id="gpu-pool:high"))  # a queue needs no setup
    check_action(PauseWorkQueue(source="inferred"))
    with pytest.raises(ActionError, match=r"^PauseWorkQueue: work pool 'gpu-pol' not found "
                                          r"\(did you mean 'gpu-pool'\?\)"):
        check_action(PauseWorkQueue(work_queue_id="gpu-pol:high"))
    with pytest.raises(ActionError, match=r"^ResumeWorkQueue: work pool 'zzz' not found"):
        check_action(ResumeWorkQueue(work_pool_name="zzz", work_queue_name="high"))
    with pytest.raises(ActionError, match="automation 'gone' not found"):
        check_action(PauseAutomation(automation_name="gone"),
                     automation_exists=lambda key: key != "gone")


def test_templates_see_the_records_the_event_names(tc_env: dict[str, Any]) -> None:
    from tasks_core.events.actions import render_text, template_context

    pool = tc_env["queue"]
    create_pool(pool)
    dep_id = _deploy(tc_env)
    run_id = run_deployment("pipeline/on-event", parameters={"lat": 4}, timeout=0).id
    event = build_event("acme.x", {RID: f"tasks-core.flow-run.{run_id}"},
                        related=[{RID: f"tasks-core.deployment.{dep_id}", ROLE: "deployment"},
                                 {RID: f"tasks-core.work-pool.{pool}", ROLE: "work-pool"}])
    text = render_text("{{ flow_run.name }}|{{ flow_run.state }}|{{ flow_run.parameters.lat }}"
                       "|{{ deployment.name }}|{{ work_pool.name }}|{{ automation.name }}",
                       template_context(_ctx(event)))
    assert text == f"pipeline|Pending|4|on-event|{pool}|ship-it"
    nothing = template_context(_ctx(_event()))
    assert (nothing.flow_run, nothing.deployment, nothing.work_pool) == (None, None, None)
