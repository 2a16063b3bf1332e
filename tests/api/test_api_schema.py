"""Schemathesis over ``/openapi.json`` of a real `tasks-core server`: no route answers 5xx.

Stateless, every operation the spec lists (routes added later are picked up with no change
here), no API key, on a Redis seeded with runs, a deployment, a work pool, an automation
and events so that listings and reads find records. Each operation gets
`GENERATED` generated cases, then `SEEDED` cases per seeded value with its path parameters
set to that value (so reads of existing records are exercised too). A route that streams
(its responses declare ``text/event-stream``) is left out: a stream has no end to wait for.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from tasks_core.automations import Automation
from tasks_core.deployment_models import WorkPool
from tasks_core.events import EventTrigger
from tasks_core.events.emit import emit_event
from tasks_core.process_runtime import get_runtime
from tests.integration import sample_flows, sample_tasks

pytestmark = pytest.mark.usefixtures("tc_env")

GENERATED = 20
SEEDED = 2
CALL_TIMEOUT = 10.0


def seed(queue: str) -> list[str]:
    """Records of every kind the API reads; their ids and names (path parameter values)."""
    rt = get_runtime()
    flow_run = sample_flows.loud_flow("seeded", return_state=True).run_id
    failed = sample_flows.hooked_flow(1, fail=True, return_state=True).run_id
    scheduled = sample_tasks.add.apply_async((1, 2), countdown=3600).id
    deployment_id = sample_flows.pipeline.deploy("seeded", work_pool_name=queue)
    rt.pools.save(WorkPool(name=queue))
    automation = Automation("seeded", EventTrigger(expect={"acme.seeded"}),
                            [{"type": "do-nothing"}]).create()
    event = emit_event("acme.seeded", {"tasks-core.resource.id": "acme.thing.1"},
                       payload={"n": 1})
    rt.emitter.flush()
    rt.reporter.flush()
    return [flow_run, failed, scheduled, deployment_id, "pipeline/seeded", queue,
            automation.id, "seeded", str(event.id)]


def streams(operation: Any) -> bool:
    responses = operation.definition.raw.get("responses", {})
    return any("text/event-stream" in (reply.get("content") or {})
               for reply in responses.values())


def run_cases(strategy: Any, base_url: str, examples: int) -> None:
    """Call `examples` cases of `strategy`; raise on the first 5xx (hypothesis shrinks)."""

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base_url, checks=[not_a_server_error],
                               timeout=CALL_TIMEOUT)

    check()


def test_no_operation_answers_a_server_error(start_server: Any,
                                             tc_env: dict[str, Any]) -> None:
    server = start_server()
    values = seed(tc_env["queue"])
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    started = time.monotonic()
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if streams(operation):
            continue
        tested += 1
        path_names = [p.name for p in operation.path_parameters]
        strategies = [(operation.as_strategy(), GENERATED)]
        if path_names:
            strategies += [(operation.as_strategy(
                path_parameters=dict.fromkeys(path_names, value)), SEEDED) for value in values]
        for strategy, examples in strategies:
            try:
                run_cases(strategy, server.url, examples)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
                failures.append(f"{operation.label}: {type(exc).__name__}: {exc}"[:2000])
                break
    assert tested >= 10, f"only {tested} operations found in /openapi.json"
    assert not failures, "\n\n".join(failures) + "\n\nserver log:\n" + server.output()[-4000:]
    took = time.monotonic() - started
    print(f"schemathesis: {tested} operations in {took:.1f} s")
    assert took < 120, f"the schema run took {took:.0f} s; lower GENERATED or SEEDED"
