"""`tasks-core`: the command line entry point; each resource adds its commands here."""

from __future__ import annotations

import typer

from tasks_core.cli import (
    deadletter,
    deploy_cmd,
    deployments,
    events,
    flow_runs,
    processes,
    redis_cmd,
    task_runs,
    work_pools,
)

app = typer.Typer(
    name="tasks-core",
    help="Prefect-style tasks and flows on Celery and Redis.",
    no_args_is_help=True,
    add_completion=False,
)
processes.register(app)
app.command("deploy")(deploy_cmd.deploy)
app.add_typer(redis_cmd.app, name="redis")
app.add_typer(task_runs.app, name="task-run")
app.add_typer(flow_runs.app, name="flow-run")
app.add_typer(deployments.app, name="deployment")
app.add_typer(work_pools.app, name="work-pool")
app.add_typer(deadletter.app, name="deadletter")
app.add_typer(events.app, name="events")

if __name__ == "__main__":
    app()
