"""Deployments: define and deploy them (`define`), run them (`runs`), serve them (`serving`).

    from tasks_core.deployments import run_deployment   # as in Prefect

    run = run_deployment("etl/nightly", parameters={"day": "2024-03-01"}, timeout=60)
    run.state, run.result()
"""

from tasks_core.deployments.define import (
    build_deployment,
    delete_deployment,
    deploy,
    deploy_flow,
    deployment_store,
    set_paused,
)
from tasks_core.deployments.runs import FlowRunResult, create_scheduled_run, run_deployment
from tasks_core.deployments.serving import serve

__all__ = ["FlowRunResult", "build_deployment", "create_scheduled_run", "delete_deployment",
           "deploy", "deploy_flow", "deployment_store", "run_deployment", "serve",
           "set_paused"]
