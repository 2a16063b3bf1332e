"""The course text's examples, run as written (import line changed) against local endpoints."""

from __future__ import annotations

import importlib.util
import json
import runpy
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tasks_core import StateName
from tasks_core.events.feed import EventFilter, list_events
from tasks_core.process_runtime import get_runtime

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "course"
CAT = "Cats sleep for 70% of their lives."
DOG = "Dogs' noses are as unique as fingerprints."


class _FactsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/cat/fact"):
            body: dict[str, Any] = {"fact": CAT, "length": len(CAT)}
        elif self.path.startswith("/dog/api/v2/facts"):
            body = {"data": [{"attributes": {"body": DOG}}]}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_fact_apis(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Serve both fact APIs on 127.0.0.1 and point the example's httpx.get at them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FactsHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real_get = httpx.get

    def local_get(url: str, **kwargs: Any) -> httpx.Response:
        url = url.replace("https://catfact.ninja", f"{base}/cat")
        url = url.replace("https://dogapi.dog", f"{base}/dog")
        return real_get(url, **kwargs)

    monkeypatch.setattr(httpx, "get", local_get)
    yield base
    server.shutdown()


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"course_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nested_flows_example(tc_env: dict[str, Any], local_fact_apis: str) -> None:
    example = _load("nested_flows")
    example.animal_facts()
    rt = get_runtime()
    rt.reporter.flush()
    flows = rt.store.get_many(rt.store.list_ids("flow", limit=10))
    [parent] = [r for r in flows if r.name == "animal-facts"]
    placeholders = rt.store.get_many(rt.store.children(parent.id))
    children = [rt.store.get_many(rt.store.children(p.id))[0] for p in placeholders]
    assert sorted(c.name for c in children) == ["fetch-cat-fact", "fetch-dog-fact"]
    assert {r.state for r in [parent, *placeholders, *children]} == {StateName.COMPLETED}
    assert all(c.parent_flow_run_id == parent.id for c in children)
    messages = [entry["message"] for entry in rt.store.logs(parent.id)]
    assert any(CAT in m and DOG in m for m in messages)


def test_emit_event_example_runs_as_a_script(tc_env: dict[str, Any]) -> None:
    # The course's emit_event example, run as written (`python emit_name_event.py`): the
    # process emits and exits at once, and the event is on the stream in tasks-core's spelling.
    done = subprocess.run([sys.executable, str(EXAMPLES / "emit_name_event.py")],
                          env=tc_env["env"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hi kiki!"
    [event] = list_events(get_runtime().events, EventFilter(events=("kiki.*",)))
    assert event.event == "kiki.sent.event!"
    assert event.resource == {"tasks-core.resource.id": "developer.kiki"}
    assert event.payload == {"name": "kiki"} and event.received is not None


def test_dep_trigger_example_deploys_with_its_automation(tc_env: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The course's deployment trigger example run as a script: its source is this folder
    # rather than the course's GitHub repository (the only change), and deploying it creates
    # the automation the trigger describes, owned by the deployment.
    from tasks_core.automations import Automation
    from tasks_core.events import EventTrigger
    from tasks_core.events.actions import RunDeployment
    from tasks_core.flow import Flow

    real = Flow.from_source.__func__  # type: ignore[attr-defined]

    def local_source(cls: type[Flow[Any, Any]], source: str, entrypoint: str,
                     **kwargs: Any) -> Flow[Any, Any]:
        assert source == "https://github.com/prefecthq/pacc-2025-v1.git"
        assert entrypoint == "105/dep-trigger.py:downstream_flow"
        return real(cls, str(EXAMPLES), "dep_trigger.py:downstream_flow", **kwargs)

    monkeypatch.setattr(Flow, "from_source", classmethod(local_source))
    runpy.run_path(str(EXAMPLES / "dep_trigger.py"), run_name="__main__")
    deployment = get_runtime().deployments.get("downstream-flow/ticker-deploy")
    assert deployment.work_pool_name == "managed1"
    [automation] = Automation.ls()
    assert automation.name == "Upstream Flow - Pipeline" and automation.enabled
    assert automation.owner_deployment_id == deployment.id
    assert automation.trigger == EventTrigger(
        expect={"tasks-core.flow-run.Completed"},
        match_related={"tasks-core.resource.id": "tasks-core.flow.*"})
    assert automation.actions == [RunDeployment(deployment_id=deployment.id)]
