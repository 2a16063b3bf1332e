"""``POST /api/flow_runs/{id}/resume`` through a real `tasks-core server` process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration import pause_flows as p
from tests.integration.test_pause_resume import _in_thread, _paused_run

pytestmark = pytest.mark.usefixtures("tc_env")


def test_resume_over_http(start_server: Any) -> None:
    server = start_server()
    p.started.clear()
    result = _in_thread(p.approval_flow, 5)
    run_id = _paused_run()
    url = f"{server.url}/api/flow_runs/{run_id}/resume"
    bad = httpx.post(url, json={"run_input": {"approved": "perhaps"}})
    assert bad.status_code == 422 and "approved" in bad.json()["detail"]
    assert not result.done()
    ok = httpx.post(url, json={"run_input": {"approved": True}})
    assert ok.status_code == 200, ok.text
    assert result.result(timeout=15)["approved"] is True
    again = httpx.post(url, json={})
    assert again.status_code == 409 and "not paused" in again.json()["detail"]
    missing = httpx.post(f"{server.url}/api/flow_runs/nope/resume", json={})
    assert missing.status_code == 404
