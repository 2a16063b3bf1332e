"""Beat's trigger engine end to end: real redis-server, real beat and worker processes.

The course's dep-trigger example (import lines changed only) runs its downstream deployment
when an upstream flow run completes and stops at the loop limit; the lab's stretch 1 (a
custom event -> SendNotification delivered by Apprise's json:// to a local receiver); a
proactive trigger firing on time; compound, sequence and for_each triggers; beat SIGKILLed
between evaluating and acknowledging, restarted: no firing lost, none repeated.
"""

from __future__ import annotations

import runpy
import time
from typing import Any

import pytest

from tasks_core import StateName, flow
from tasks_core.automations import Automation
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.events.schema import Event
from tasks_core.runtime import get_runtime
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
