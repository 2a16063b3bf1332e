# The course's deployment-trigger example ("Deployment triggers"), with only its import lines
# changed. Deploying it creates an automation owned by the deployment "ticker-deploy": when
# any flow run completes, run this deployment (see tests/e2e/test_course_examples.py, which
# serves the source from this folder instead of GitHub). Running the downstream flow on the
# event needs beat's trigger engine.
from tasks_core import flow
from tasks_core.events import DeploymentEventTrigger


@flow(log_prints=True)
def downstream_flow(ticker: str = "AAPL") -> str:
    print(f"got {ticker}")


downstream_deployment_trigger = DeploymentEventTrigger(
    name="Upstream Flow - Pipeline",
    enabled=True,
    match_related={"prefect.resource.id": "prefect.flow.*"},
    expect={"prefect.flow-run.Completed"},
)


if __name__ == "__main__":
    downstream_flow.from_source(
        source="https://github.com/prefecthq/pacc-2025-v1.git",
        entrypoint="105/dep-trigger.py:downstream_flow",
    ).deploy(
        name="ticker-deploy",
        work_pool_name="managed1",
        triggers=[downstream_deployment_trigger],
    )
