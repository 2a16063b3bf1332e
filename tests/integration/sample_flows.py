"""Flows the deployment tests deploy (loaded by workers through their entrypoints)."""

from __future__ import annotations

from typing import Any

from tasks_core.deployments import run_deployment
from tasks_core.flow import flow
from tests.integration import sample_tasks as t


@flow
def pipeline(lat: float, lon: float = 0.0) -> dict[str, Any]:
    return {"lat": lat, "lon": lon, "sum": t.add(int(lat), int(lon))}


@flow
def run_deployment_from_flow() -> float:
    print("Running deployment from a flow")
    run = run_deployment(
        name="pipeline/my-first-managed-deployment", parameters={"lat": 1, "lon": 2}
    )
    return float(run.result()["sum"])


@flow
def broken() -> None:
    raise RuntimeError("never loaded")


@flow
def sleepy_flow(key: str) -> str:
    import os
    import time

    from tasks_core.runtime import get_runtime

    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid())
    time.sleep(30)
    return "woke"
