# The course's "run_deployment" example, with only its import lines changed (and the course
# text's missing closing parenthesis restored). It starts the deployment
# "pipeline/my-first-managed-deployment"; see tests/integration/test_deployments.py.
from tasks_core import flow
from tasks_core.deployments import run_deployment


@flow
def run_deployment_from_flow():
    print("Running deployment from a flow")
    run_deployment(
        name="pipeline/my-first-managed-deployment", parameters={"lat": 1, "lon": 2}
    )
    return


if __name__ == "__main__":
    run_deployment_from_flow()
