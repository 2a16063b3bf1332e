"""prefect.runtime and get_run_context: the current flow run's and task run's facts inside
runs, empty values outside them, and MissingContextError from get_run_context outside a
run. Prefect: docs.prefect.io/v3/concepts/runtime-context, src/prefect/context.py."""
from prefect import flow, task
from prefect.context import get_run_context
from prefect.runtime import deployment, flow_run, task_run


@task
def inner(x):
    print(task_run.task_name, task_run.parameters)
    print(flow_run.parameters)
    print(type(get_run_context()).__name__)
    return x


@flow(name="runtime-demo")
def outer(day: str):
    print(flow_run.flow_name, flow_run.parameters)
    print(deployment.id, deployment.name, deployment.parameters)
    print(type(get_run_context()).__name__)
    return inner(2)


if __name__ == "__main__":
    print(outer("mon"))
    print(flow_run.id, flow_run.parameters, task_run.name)
    try:
        get_run_context()
    except Exception as exc:
        print(type(exc).__name__)
# expect:
# runtime-demo {'day': 'mon'}
# None None {}
# FlowRunContext
# inner {'x': 2}
# {'day': 'mon'}
# TaskRunContext
# 2
# None {} None
# MissingContextError
